/* python3 linked against the shared libpython3.X.so, the library the
 * gateway embeds. Debian's /usr/bin/python3 links libpython statically,
 * and runs framework code about 20% faster than the shared library does
 * (its code is built without -fPIC); this launcher lets flup run on the
 * same interpreter build as the gateway, so the benchmark can tell the
 * gateways' cost from the interpreter builds'. On Windows there is no such
 * difference: python.exe itself is a launcher over python3X.dll.
 * Built by bench/gateway.sh. */
#include <Python.h>

int main(int argc, char **argv)
{
    return Py_BytesMain(argc, argv);
}
