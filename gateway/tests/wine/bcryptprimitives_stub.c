/* For tests under Wine only (Wine 8 lacks ProcessPrng, which Rust's
   standard library imports since 1.78). Never shipped: Windows 10 and
   later have the real bcryptprimitives.dll. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    return RtlGenRandom(data, (ULONG)len);
}
