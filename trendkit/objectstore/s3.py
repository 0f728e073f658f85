"""An S3-API bucket as an object store: AWS S3 in production, MinIO or moto elsewhere."""

from __future__ import annotations

import asyncio
import os
from contextlib import AsyncExitStack
from typing import Any

import aioboto3
from aiobotocore.config import AioConfig
from botocore.exceptions import ClientError

from trendkit.objectstore.base import ObjectNotFound, ObjectStoreError, check_key, check_prefix

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3ObjectStore:
    """Store objects in ``bucket`` under ``prefix``; credentials come from the AWS chain."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        create_bucket: bool = True,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 object store needs a bucket name")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.region = (
            region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        ) or "us-east-1"
        self.create_bucket = create_bucket
        self._stack = AsyncExitStack()
        self._client: Any = None
        self._lock = asyncio.Lock()

    def _full_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str) -> str:
        """Return the s3:// URI of ``key``."""
        return f"s3://{self.bucket}/{self._full_key(key)}"

    async def _s3(self) -> Any:
        """Return the client, opening it (and creating the bucket) on first use."""
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                self._client = await self._open()
        return self._client

    async def _open(self) -> Any:
        options: dict[str, Any] = {"retries": {"max_attempts": 5, "mode": "standard"}}
        if self.endpoint_url:
            # MinIO and moto serve buckets by path, and not all of them speak the newer
            # default checksums that botocore sends to AWS.
            options |= {
                "s3": {"addressing_style": "path"},
                "request_checksum_calculation": "when_required",
                "response_checksum_validation": "when_required",
            }
        session = aioboto3.Session()
        client = await self._stack.enter_async_context(
            session.client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                config=AioConfig(**options),
            )
        )
        if self.create_bucket:
            await self._ensure_bucket(client)
        return client

    async def _ensure_bucket(self, client: Any) -> None:
        try:
            await client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as error:
            if _error_code(error) not in _MISSING:
                raise ObjectStoreError(f"cannot reach bucket {self.bucket!r}: {error}") from error
        extra: dict[str, Any] = {}
        if self.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
            extra["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            await client.create_bucket(Bucket=self.bucket, **extra)
        except ClientError as error:
            # Another service may have created it in between.
            if _error_code(error) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    async def put(self, key: str, data: bytes, *, content_type: str | None = None) -> str:
        """Upload ``data`` under ``key`` and return its URI."""
        extra = {"ContentType": content_type} if content_type else {}
        client = await self._s3()
        await client.put_object(Bucket=self.bucket, Key=self._full_key(key), Body=data, **extra)
        return self.uri(key)

    async def get(self, key: str) -> bytes:
        """Download the object, or raise ObjectNotFound."""
        client = await self._s3()
        try:
            response = await client.get_object(Bucket=self.bucket, Key=self._full_key(key))
        except ClientError as error:
            if _error_code(error) in _MISSING:
                raise ObjectNotFound(key) from None
            raise
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def exists(self, key: str) -> bool:
        """Return whether an object is stored under ``key``."""
        client = await self._s3()
        try:
            await client.head_object(Bucket=self.bucket, Key=self._full_key(key))
        except ClientError as error:
            if _error_code(error) in _MISSING:
                return False
            raise
        return True

    async def list(self, prefix: str = "") -> list[str]:
        """Return the sorted keys starting with ``prefix``."""
        check_prefix(prefix)
        client = await self._s3()
        base = f"{self.prefix}/" if self.prefix else ""
        keys: list[str] = []
        async for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=base + prefix
        ):
            keys.extend(item["Key"][len(base) :] for item in page.get("Contents", []))
        return sorted(keys)

    async def delete(self, key: str) -> None:
        """Delete the object; S3 treats a missing key as already deleted."""
        client = await self._s3()
        await client.delete_object(Bucket=self.bucket, Key=self._full_key(key))

    async def close(self) -> None:
        """Close the HTTP connections."""
        self._client = None
        await self._stack.aclose()
