"""glint_local's own check of a call against a role's statements: what moto leaves out (S3 key
prefixes, conditions, table and index ARNs, per-item actions of transactions)."""
from __future__ import annotations

from glint_local.iam_policy import Need, allows, needs

BUCKET = "arn:aws:s3:::b"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/t"
STAGING_WRITE = {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": f"{BUCKET}/staging/*"}
LIST_STAGING = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET,
                "Condition": {"StringLike": {"s3:prefix": ["staging/*"]}}}


def _allowed(statements: list[dict], service: str, operation: str, **params: object) -> bool:
    return all(allows(statements, need) for need in needs(service, operation, params, "us-east-1"))


def test_object_writes_are_held_to_their_key_prefix() -> None:
    assert _allowed([STAGING_WRITE], "s3", "PutObject", Bucket="b", Key="staging/i/u")
    assert _allowed([STAGING_WRITE], "s3", "UploadPart", Bucket="b", Key="staging/i/u")
    assert not _allowed([STAGING_WRITE], "s3", "PutObject", Bucket="b", Key="images/i/x")
    assert not _allowed([STAGING_WRITE], "s3", "PutObject", Bucket="other", Key="staging/i/u")


def test_a_copy_needs_to_read_its_source_and_write_its_target() -> None:
    copy = {"Bucket": "b", "Key": "images/i/x", "CopySource": {"Bucket": "b", "Key": "staging/i/u"}}
    write_images = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{BUCKET}/images/*"}
    read_staging = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/staging/*"}
    assert _allowed([write_images, read_staging], "s3", "CopyObject", **copy)
    assert not _allowed([write_images], "s3", "CopyObject", **copy)
    assert not _allowed([read_staging], "s3", "CopyObject", **copy)


def test_listings_must_meet_the_prefix_condition() -> None:
    assert _allowed([LIST_STAGING], "s3", "ListObjectsV2", Bucket="b", Prefix="staging/i/")
    assert not _allowed([LIST_STAGING], "s3", "ListObjectsV2", Bucket="b", Prefix="images/")
    assert not _allowed([LIST_STAGING], "s3", "ListObjectsV2", Bucket="b")


def test_batch_deletes_are_checked_key_by_key() -> None:
    delete_staging = {"Effect": "Allow", "Action": "s3:DeleteObject",
                      "Resource": f"{BUCKET}/staging/*"}
    keys = {"Objects": [{"Key": "staging/a"}, {"Key": "images/b"}]}
    assert not _allowed([delete_staging], "s3", "DeleteObjects", Bucket="b", Delete=keys)
    assert _allowed([delete_staging], "s3", "DeleteObjects", Bucket="b",
                    Delete={"Objects": [{"Key": "staging/a"}]})


def test_tables_indexes_and_transaction_items() -> None:
    read = {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": TABLE}
    assert _allowed([read], "dynamodb", "GetItem", TableName="t")
    assert not _allowed([read], "dynamodb", "GetItem", TableName="u")
    # An index is a resource of its own.
    assert not _allowed([read], "dynamodb", "Query", TableName="t", IndexName="by-owner")
    transaction = {"TransactItems": [{"Put": {"TableName": "t"}},
                                     {"ConditionCheck": {"TableName": "t"}}]}
    put_only = {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": TABLE}
    check_too = {**put_only, "Action": ["dynamodb:PutItem", "dynamodb:ConditionCheckItem"]}
    assert not _allowed([put_only], "dynamodb", "TransactWriteItems", **transaction)
    assert _allowed([check_too], "dynamodb", "TransactWriteItems", **transaction)


def test_an_explicit_deny_wins() -> None:
    deny = {"Effect": "Deny", "Action": "s3:*", "Resource": f"{BUCKET}/staging/secret"}
    need = Need("s3:PutObject", f"{BUCKET}/staging/secret")
    assert allows([STAGING_WRITE], need) and not allows([STAGING_WRITE, deny], need)
