/* A recording stand-in, for tests under Wine, for the programs of a real
   IIS server that Wine has not (appcmd.exe) or that would do nothing here
   (icacls.exe): installed under their names in the test's Wine prefix, it
   appends "<its own file name>|<its command line less the program>" to
   the file named by IISWSGI_STANDIN_LOG, and answers appcmd's queries as
   IIS would:
     list vdir ... /text:physicalPath   -> IISWSGI_STANDIN_PHYSICAL_PATH
     list app ... /text:applicationPool -> IISWSGI_STANDIN_APP_POOL
   Exit: IISWSGI_STANDIN_EXIT (default 0). It changes nothing. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

/* The command line after the program's own name (quoted or not). */
static const wchar_t *arguments(const wchar_t *line) {
    if (*line == L'"') {
        line++;
        while (*line && *line != L'"') line++;
        if (*line) line++;
    } else {
        while (*line && *line != L' ' && *line != L'\t') line++;
    }
    while (*line == L' ' || *line == L'\t') line++;
    return line;
}

static void answer(const char *variable) {
    const char *value = getenv(variable);
    if (value) printf("%s\r\n", value);
}

int main(void) {
    wchar_t self[MAX_PATH];
    GetModuleFileNameW(NULL, self, MAX_PATH);
    const wchar_t *name = wcsrchr(self, L'\\');
    name = name ? name + 1 : self;
    const wchar_t *args = arguments(GetCommandLineW());

    const char *log = getenv("IISWSGI_STANDIN_LOG");
    if (log) {
        HANDLE f = CreateFileA(log, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                               OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
        if (f != INVALID_HANDLE_VALUE) {
            char buf[8192];
            int n = WideCharToMultiByte(CP_UTF8, 0, name, -1, buf, sizeof buf, NULL, NULL);
            DWORD put;
            if (n > 0) WriteFile(f, buf, (DWORD)(n - 1), &put, NULL);
            WriteFile(f, "|", 1, &put, NULL);
            n = WideCharToMultiByte(CP_UTF8, 0, args, -1, buf, sizeof buf, NULL, NULL);
            if (n > 0) WriteFile(f, buf, (DWORD)(n - 1), &put, NULL);
            WriteFile(f, "\n", 1, &put, NULL);
            CloseHandle(f);
        }
    }
    if (wcsstr(args, L"/text:physicalPath")) answer("IISWSGI_STANDIN_PHYSICAL_PATH");
    if (wcsstr(args, L"/text:applicationPool")) answer("IISWSGI_STANDIN_APP_POOL");
    const char *code = getenv("IISWSGI_STANDIN_EXIT");
    return code ? atoi(code) : 0;
}
