/* Does what IIS's FastCGI module does, for the gateway's Windows build
   under Wine: creates a named pipe, starts the gateway with the pipe's
   server end as standard input (its name in _FCGI_X_PIPE_, a shutdown
   event's handle in _FCGI_SHUTDOWN_EVENT_), connects as the web server,
   sends each request file's bytes on a connection of its own, writes
   what comes back to RESPONSE files, then sets the shutdown event and
   reports the gateway's exit code.

   usage: pipe_harness.exe GATEWAY.exe REQUEST1 RESPONSE1 [REQUEST2 RESPONSE2 ...]
          pipe_harness.exe GATEWAY.exe          (commands on standard input)
   With commands, one per line, so that a test can change the app's files
   between requests while the same gateway process serves them:
     request REQUEST RESPONSE   one request on a connection of its own;
                                answers "done" (or "failed ...") on stdout
     shutdown (or the end of input)   sets the shutdown event
   Exit: the gateway's exit code after shutdown; 90+ for a harness failure. */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what) {
    fprintf(stderr, "pipe_harness: %s failed: error %lu\n", what, GetLastError());
    return 90;
}

static char *slurp(const char *path, DWORD *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc(n ? n : 1);
    *len = (DWORD)fread(buf, 1, n, f);
    fclose(f);
    return buf;
}

/* Reads records until FCGI_END_REQUEST; writes every byte read to out. */
static int exchange(HANDLE pipe, const char *req, DWORD req_len, FILE *out) {
    DWORD put = 0;
    if (!WriteFile(pipe, req, req_len, &put, NULL) || put != req_len) return fail("WriteFile");
    for (;;) {
        unsigned char h[8];
        DWORD got = 0, total = 0;
        while (total < 8) {
            if (!ReadFile(pipe, h + total, 8 - total, &got, NULL) || got == 0) return fail("ReadFile header");
            total += got;
        }
        fwrite(h, 1, 8, out);
        DWORD len = ((DWORD)h[4] << 8 | h[5]) + h[6];
        char *content = malloc(len ? len : 1);
        total = 0;
        while (total < len) {
            if (!ReadFile(pipe, content + total, len - total, &got, NULL) || got == 0) return fail("ReadFile content");
            total += got;
        }
        fwrite(content, 1, len, out);
        free(content);
        if (h[1] == 3) return 0; /* FCGI_END_REQUEST */
    }
}

/* Connects as the web server, sends the request file, writes the response. */
static int one_request(const char *name, const char *req_file, const char *resp_file) {
    HANDLE client = INVALID_HANDLE_VALUE;
    for (int tries = 0; tries < 400 && client == INVALID_HANDLE_VALUE; tries++) {
        client = CreateFileA(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (client == INVALID_HANDLE_VALUE) Sleep(50);
    }
    if (client == INVALID_HANDLE_VALUE) return fail("CreateFile (connect to the pipe)");
    DWORD len = 0;
    char *req = slurp(req_file, &len);
    if (!req) return fail("reading a request file");
    FILE *out = fopen(resp_file, "wb");
    if (!out) return fail("opening a response file");
    int rc = exchange(client, req, len, out);
    fclose(out);
    free(req);
    CloseHandle(client); /* as IIS does when the request is not kept */
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2 || (argc > 2 && argc % 2)) {
        fprintf(stderr, "usage: pipe_harness GATEWAY.exe REQUEST RESPONSE [REQUEST RESPONSE ...]\n");
        return 91;
    }
    char name[128];
    snprintf(name, sizeof name, "\\\\.\\pipe\\IISFCGI-%lu", GetCurrentProcessId());
    SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
    HANDLE server = CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT,
                                     1, 65536, 65536, 0, &sa);
    if (server == INVALID_HANDLE_VALUE) return fail("CreateNamedPipe");
    HANDLE shutdown = CreateEventA(&sa, TRUE, FALSE, NULL);
    if (!shutdown) return fail("CreateEvent");
    char value[32];
    SetEnvironmentVariableA("_FCGI_X_PIPE_", name);
    snprintf(value, sizeof value, "%llu", (unsigned long long)(ULONG_PTR)shutdown);
    SetEnvironmentVariableA("_FCGI_SHUTDOWN_EVENT_", value);

    STARTUPINFOA si;
    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = server;
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    PROCESS_INFORMATION pi;
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "\"%s\"", argv[1]);
    if (!CreateProcessA(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) return fail("CreateProcess");
    CloseHandle(server);

    if (argc == 2) {
        char line[4096];
        while (fgets(line, sizeof line, stdin)) {
            char req_file[2048], resp_file[2048];
            if (strncmp(line, "shutdown", 8) == 0) break;
            if (sscanf(line, "request %2047s %2047s", req_file, resp_file) != 2) {
                printf("failed: unknown command %s", line);
                fflush(stdout);
                continue;
            }
            int rc = one_request(name, req_file, resp_file);
            if (rc) printf("failed: error %lu\n", GetLastError());
            else printf("done\n");
            fflush(stdout);
        }
    } else {
        for (int i = 2; i + 1 < argc; i += 2) {
            int rc = one_request(name, argv[i], argv[i + 1]);
            if (rc) return rc;
        }
    }

    SetEvent(shutdown);
    if (WaitForSingleObject(pi.hProcess, 20000) != WAIT_OBJECT_0) {
        TerminateProcess(pi.hProcess, 99);
        fprintf(stderr, "pipe_harness: the gateway did not exit within 20 s of the shutdown event\n");
        return 92;
    }
    DWORD code = 0;
    GetExitCodeProcess(pi.hProcess, &code);
    return (int)code;
}
