//! The `iiswsgi-gateway` executable: CPython embedded (see `program`).

fn main() {
    std::process::exit(iiswsgi_gateway::program::run(std::env::args().skip(1)));
}
