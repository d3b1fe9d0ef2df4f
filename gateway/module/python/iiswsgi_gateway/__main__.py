from iiswsgi_gateway import main

main()
