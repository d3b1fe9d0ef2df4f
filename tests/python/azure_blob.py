"""Azurite helper with Microsoft's own SDK (azure-storage-blob), independent
of iiswsgi's object_store client.

    azure_blob.py create ENDPOINT CONTAINER      make the container
    azure_blob.py dump ENDPOINT CONTAINER DIR    list blob names (sorted, one
                                                 per line) and save each under DIR
ENDPOINT: http://127.0.0.1:PORT/devstoreaccount1 (Azurite's well-known account).
"""
import os
import sys

from azure.storage.blob import BlobServiceClient

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
command, endpoint, container = sys.argv[1:4]
service = BlobServiceClient(account_url=endpoint, credential={"account_name": "devstoreaccount1", "account_key": KEY})
if command == "create":
    service.create_container(container)
elif command == "dump":
    dest = sys.argv[4]
    client = service.get_container_client(container)
    for name in sorted(b.name for b in client.list_blobs()):
        print(name)
        path = os.path.join(dest, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(client.download_blob(name).readall())
else:
    raise SystemExit(__doc__)
