"""Lists and downloads a bucket's objects with boto3 (AWS's own SDK, which
comes with moto), independently of iiswsgi's object_store client.

    s3_objects.py ENDPOINT BUCKET DIR [etags]   print keys (sorted), save each under DIR;
                                                with "etags", "KEY ETAG" (a multipart
                                                upload's ETag ends in -PARTS)
"""
import os
import sys

import boto3

endpoint, bucket, dest = sys.argv[1:4]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                  aws_secret_access_key="testing-secret", region_name="us-east-1")
objects = {o["Key"]: o["ETag"].strip('"') for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
keys = sorted(objects)
for key in keys:
    print("%s %s" % (key, objects[key]) if sys.argv[4:] == ["etags"] else key)
    path = os.path.join(dest, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    s3.download_file(bucket, key, path)
