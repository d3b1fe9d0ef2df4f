/* The floor of the gateway benchmark: libfcgi's accept loop answering the
 * plain app's 13 bytes, with no Python and no WSGI. Spawned by the same
 * Apache + mod_fcgid as the gateways, it measures what the host and wrk
 * cost on their own; a gateway's own cost per request is its time per
 * request minus this one's. Built by bench/gateway.sh (libfcgi-dev). */
#include <fcgiapp.h>

int main(void)
{
    FCGX_Stream *in, *out, *err;
    FCGX_ParamArray envp;

    while (FCGX_Accept(&in, &out, &err, &envp) >= 0) {
        FCGX_PutS("Status: 200 OK\r\n"
                  "Content-Type: text/plain\r\n"
                  "Content-Length: 13\r\n"
                  "\r\n"
                  "Hello, World!", out);
    }
    return 0;
}
