"""`glint`: the command-line client for Glint's direct-upload extension (never shipped to Lambda).

Uploads go straight to S3 in parallel parts, resumable part by part; downloads are verified
against the image's md5 and sha512 as they are written."""
