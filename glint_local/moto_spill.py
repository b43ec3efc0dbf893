"""Image bytes stay on disk in the embedded S3 (moto), whatever their size.

moto keeps each object's body in a SpooledTemporaryFile (on disk above about 5 MiB), but
four paths hold whole bodies in memory: a PUT (object or part) is read into one bytes
object (twice over, while Werkzeug joins it) before moto writes it out, and the request
keeps it until the garbage collector's next full pass; a GET (ranged or not) reads the
entire object and then slices it; completing a multipart upload joins every part into one
bytearray and copies it again; UploadPartCopy reads the whole source to copy one range. A
2 GiB import took the server to ~8.5 GiB resident. Here a large PUT body goes from the
socket to a file 1 MiB at a time (`_Received`), and the other paths hand around lazy views
of the files instead (`_Slice`, `_Joined`), copied or streamed 1 MiB at a time, as is a
copied part's ETag: resident memory stays near the requests in flight. Everything else of
moto is left as it is."""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any

import flask
from moto import settings
from moto.s3 import models, responses
from werkzeug.wrappers import Request

_CHUNK = 1024 * 1024
_lazy_reads = threading.local()  # set while a GET builds its response


class _Slice:
    """Bytes `start:stop` of an object's spooled body, read a chunk at a time."""

    def __init__(self, key: models.FakeKey, start: int, stop: int) -> None:
        self._key, self._start, self._stop = key, start, max(start, stop)

    def __len__(self) -> int:
        return self._stop - self._start

    def __getitem__(self, span: slice) -> _Slice:
        start, stop, step = span.indices(len(self))
        if step != 1:
            raise ValueError("only contiguous byte ranges")
        return _Slice(self._key, self._start + start, self._start + stop)

    def __iter__(self) -> Iterator[bytes]:
        position = self._start
        while position < self._stop:
            with self._key.lock:  # the body's file position is shared by every reader
                body = self._key._value_buffer
                body.seek(position)
                chunk = body.read(min(_CHUNK, self._stop - position))
            if not chunk:
                return
            position += len(chunk)
            yield chunk

    def write_to(self, file: IO[bytes]) -> None:
        with self._key.lock:
            copied = _copy_range(self._key._value_buffer, self._start, len(self), file)
        if not copied:
            for chunk in self:
                file.write(chunk)


class _Joined:
    """The bodies of a multipart upload's parts, one after the other, never joined: the
    completed object reads through them (`_Chain`), so completing even a 10 GiB upload
    is instant, as in S3. moto disposes of the parts (closing their files) before it stores
    the joined object, so the part files are taken over: each part keeps an empty file."""

    def __init__(self, parts: list[models.FakeKey]) -> None:
        self.bodies = []
        for part in parts:
            with part.lock:
                self.bodies.append(part._value_buffer)
                part._value_buffer = tempfile.SpooledTemporaryFile(_CHUNK)

    def __len__(self) -> int:
        return sum(body.seek(0, 2) for body in self.bodies)


class _Chain(io.RawIOBase):
    """Read-only files one after the other, read as one (a completed multipart object)."""

    def __init__(self, files: list[Any]) -> None:
        super().__init__()
        self._files = files
        self._sizes = [file.seek(0, 2) for file in files]
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: sum(self._sizes)}
        self._position = base[whence] + offset
        return self._position

    def tell(self) -> int:
        return self._position

    def segments(self, offset: int, length: int) -> Iterator[tuple[Any, int, int]]:
        """(file, offset in it, length) pieces that make up `length` bytes from `offset`."""
        start = 0
        for file, size in zip(self._files, self._sizes):
            if length <= 0:
                return
            if offset < start + size:
                local = max(0, offset - start)
                take = min(size - local, length)
                yield file, local, take
                offset, length = offset + take, length - take
            start += size

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = sum(self._sizes) - self._position
        pieces = []
        for file, local, take in self.segments(self._position, size):
            file.seek(local)
            pieces.append(file.read(take))
        data = b"".join(pieces)
        self._position += len(data)
        return data

    def close(self) -> None:
        for file in self._files:
            file.close()
        super().close()


class _Received:
    """A PUT body written to a file on disk as it arrived, with its md5 (the ETag): the
    key takes the file over as its body, so the bytes are never all in memory at once."""

    def __init__(self, file: IO[bytes], size: int, md5: str) -> None:
        self.file, self.size, self.md5 = file, size, md5

    def __len__(self) -> int:
        return self.size


_LAZY = (_Slice, _Joined, _Received)
# Query parameters of a plain PutObject or UploadPart, presigned or not: any other one names
# a subresource (?acl, ?tagging, ...) whose XML body moto parses itself.
_PUT_PARAMETERS = {"uploadId", "partNumber"}
_FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def _streamable(request: Request) -> bool:
    """A large PutObject or UploadPart body that moto never needs whole: not aws-chunked,
    and not one whose checksum moto would compute from the body itself."""
    headers = request.headers
    algorithm = headers.get("x-amz-sdk-checksum-algorithm", "")
    if algorithm and not headers.get(f"x-amz-checksum-{algorithm.lower()}"):
        return False
    plain_put = (request.method == "PUT" and "x-amz-copy-source" not in headers
                 and all(name in _PUT_PARAMETERS or name.lower().startswith("x-amz-")
                         for name in request.args))
    return (plain_put and getattr(request, "from_wsgi_server", False)
            and (request.content_length or 0) > settings.get_s3_default_key_buffer_size()
            and request.mimetype not in _FORM_TYPES
            and not headers.get("x-amz-content-sha256", "").startswith("STREAMING-")
            and getattr(request, "_cached_data", None) is None)  # not read yet


def _receive(request: Request) -> _Received | None:
    """The body of a streamable PUT, from the socket to a file; None for any other."""
    if not _streamable(request):
        return None
    file = tempfile.TemporaryFile()
    md5 = hashlib.md5(usedforsecurity=False)
    buffer = memoryview(bytearray(_CHUNK))
    size = 0
    # Werkzeug bounds the stream by Content-Length and raises if the client stops short.
    while (count := request.stream.readinto(buffer)):
        file.write(buffer[:count])
        md5.update(buffer[:count])
        size += count
    request._cached_data = b""  # what moto reads as the body: the bytes went to the file
    return _Received(file, size, md5.hexdigest())


def _copy_range(source: Any, offset: int, length: int, target: Any) -> bool:
    """Append `length` bytes of `source` from `offset` to `target` inside the kernel
    (copy_file_range), when both are files on disk; False (nothing copied) when not."""
    if length < _CHUNK or not hasattr(os, "copy_file_range"):
        return False
    if isinstance(source, _Chain):
        for file, local, take in source.segments(offset, length):
            if not _copy_range(file, local, take, target):
                file.seek(local)
                for done in range(0, take, _CHUNK):
                    target.write(file.read(min(_CHUNK, take - done)))
        return True
    if isinstance(target, tempfile.SpooledTemporaryFile):
        target.rollover()  # the object is large: its body belongs on disk anyway
    try:
        source_fd, target_fd = source.fileno(), target.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):  # still in memory
        return False
    target.flush()
    position = target.seek(0, 2)
    done = 0
    while done < length:
        copied = os.copy_file_range(source_fd, target_fd, length - done, offset + done,
                                    position + done)
        if copied == 0:
            break
        done += copied
    target.seek(position + done)
    return True


def install() -> None:
    """Patch moto's S3 (once per process) so that object bodies never sit in memory whole."""
    if getattr(models.FakeKey, "spills", False):
        return
    _patch_put()
    _patch_value()
    _patch_etag()
    _patch_get()
    _patch_complete()
    _patch_part_copy()
    models.FakeKey.spills = True


def _patch_value() -> None:
    value = models.FakeKey.value

    def read(key: models.FakeKey) -> Any:
        if getattr(_lazy_reads, "on", False):
            return _Slice(key, 0, key.contentsize)
        return value.fget(key)

    def write(key: models.FakeKey, new_value: Any) -> None:
        if not isinstance(new_value, _LAZY):
            value.fset(key, new_value)
            return
        key.contentsize = len(new_value)
        if isinstance(new_value, _Received):
            key._value_buffer.close()
            key._value_buffer, key._etag = new_value.file, new_value.md5
            return
        if isinstance(new_value, _Joined):
            key._value_buffer.close()
            key._value_buffer = _Chain(new_value.bodies)
            return
        key._value_buffer.seek(0)
        key._value_buffer.truncate()
        new_value.write_to(key._value_buffer)

    models.FakeKey.value = property(read, write)


def _patch_etag() -> None:
    # moto computes a missing ETag (a copied part's) reading 16 MiB blocks. Freed on a
    # server thread, each block stays in that thread's malloc arena, and ten copies at once
    # kept hundreds of MiB: 1 MiB blocks are reused instead.
    def etag(key: models.FakeKey) -> str:
        if key._etag is None:
            md5 = hashlib.md5(usedforsecurity=False)
            with key.lock:  # the body's file position is shared by every reader
                body = key._value_buffer
                body.seek(0)
                while chunk := body.read(_CHUNK):
                    md5.update(chunk)
            key._etag = md5.hexdigest()
        return f'"{key._etag}"'

    models.FakeKey.etag = property(etag)


def _patch_put() -> None:
    setup_class = responses.S3Response.setup_class

    def receiving_setup_class(self: responses.S3Response, request: Request,
                              full_url: str | None = None, headers: Any = None) -> None:
        received = _receive(request)
        setup_class(self, request, full_url, headers)
        if received is not None:
            self.body = self.raw_body = received

    responses.S3Response.setup_class = receiving_setup_class


def _patch_get() -> None:
    get_object = responses.S3Response.get_object

    def lazy_get_object(self: responses.S3Response) -> Any:
        # The body goes out as a lazy slice: Werkzeug streams it, and a Range header slices
        # it (S3Response._handle_range_header) without reading the rest. Only in moto's
        # server: in-process moto (mock_aws) hands the body to botocore, which wants bytes.
        if not flask.has_request_context():
            return get_object(self)
        _lazy_reads.on = True
        try:
            return get_object(self)
        finally:
            _lazy_reads.on = False

    responses.S3Response.get_object = lazy_get_object


def _patch_complete() -> None:
    complete = models.FakeMultipart.complete

    def streamed_complete(self: models.FakeMultipart, body: Any) -> Any:
        if self.metadata.get("x-amz-checksum-algorithm"):  # not Glint's: moto's own way
            return complete(self, body)
        md5s = bytearray()
        parts: list[models.FakeKey] = []
        for number, etag in body:
            part = self.parts.get(number)
            if part is None or part.etag.replace('"', "") != etag.replace('"', ""):
                raise models.InvalidPart()
            if parts and parts[-1].contentsize < models.S3_UPLOAD_PART_MIN_SIZE:
                raise models.EntityTooSmall()
            md5s.extend(bytes.fromhex(part.etag.replace('"', "")))
            parts.append(part)
        if not parts:
            raise models.MalformedXML()
        return _Joined(parts), f"{models.md5_hash(bytes(md5s)).hexdigest()}-{len(parts)}", None

    models.FakeMultipart.complete = streamed_complete


def _patch_part_copy() -> None:
    def sliced_part_copy(self: models.S3Backend, dest_bucket_name: str, multipart_id: str,
                         part_id: int, src_bucket_name: str, src_key_name: str,
                         src_version_id: str | None, start_byte: int | None,
                         end_byte: int | None) -> models.FakeKey:
        multipart = self.get_bucket(dest_bucket_name).multiparts[multipart_id]
        source = self.get_object(src_bucket_name, src_key_name, version_id=src_version_id)
        if start_byte is None:
            value = _Slice(source, 0, source.contentsize)
        else:
            value = _Slice(source, start_byte, end_byte + 1)
        return multipart.set_part(part_id, value)

    models.S3Backend.upload_part_copy = sliced_part_copy
