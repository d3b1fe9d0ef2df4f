/* The floor of the gateway benchmark: the least a FastCGI responder can
 * do. It accepts on the listening socket mod_fcgid passes as fd 0, reads
 * the request's records until the empty FCGI_STDIN that ends it, and
 * answers the plain app's 13 bytes, its FCGI_STDOUT records and
 * FCGI_END_REQUEST, in one write; no Python, no WSGI, no parameter
 * decoding. Spawned by the same Apache + mod_fcgid as the gateways, it
 * measures what the host and wrk cost on their own: a gateway's own cost
 * per request is its time per request minus this one's.
 *
 * (Until December 2026 the floor was libfcgi's FCGX_Accept loop; our
 * gateway came out faster than it at one connection, so it was no floor:
 * libfcgi reads and writes in more system calls.) Built by bench/gateway.sh. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BODY "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"

static unsigned char in[65536 + 8 + 255];

static size_t header(unsigned char *at, int type, int id, size_t len)
{
    unsigned char h[8] = {1, type, id >> 8, id & 0xff, len >> 8, len & 0xff, 0, 0};
    memcpy(at, h, 8);
    return 8;
}

/* Reads records until the request's empty FCGI_STDIN; its id, or -1. */
static int read_request(int conn)
{
    size_t have = 0;
    int id = -1;
    for (;;) {
        ssize_t n = read(conn, in + have, sizeof in - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        have += (size_t)n;
        size_t at = 0;
        while (have - at >= 8) {
            size_t len = (size_t)in[at + 4] << 8 | in[at + 5], pad = in[at + 6];
            if (have - at < 8 + len + pad)
                break;
            int type = in[at + 1];
            id = in[at + 2] << 8 | in[at + 3];
            at += 8 + len + pad;
            if (type == 5 /* FCGI_STDIN */ && len == 0)
                return id;
        }
        memmove(in, in + at, have - at);
        have -= at;
    }
}

int main(void)
{
    static unsigned char out[sizeof BODY + 64];
    for (;;) {
        int conn = accept(0, NULL, NULL);
        if (conn < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        int id = read_request(conn);
        if (id >= 0) {
            size_t n = header(out, 6 /* FCGI_STDOUT */, id, sizeof BODY - 1);
            memcpy(out + n, BODY, sizeof BODY - 1);
            n += sizeof BODY - 1;
            n += header(out + n, 6, id, 0);
            n += header(out + n, 3 /* FCGI_END_REQUEST */, id, 8);
            memset(out + n, 0, 8); /* appStatus 0, FCGI_REQUEST_COMPLETE */
            n += 8;
            ssize_t w = write(conn, out, n);
            (void)w;
        }
        close(conn);
    }
}
