"""pynamodb model of the metadata definitions catalog: one table, one partition per namespace.

Items (pk, sk):
- ("NS#<namespace>", "NS")          the namespace header; carries `catalog` (sparse GSI key)
- ("NS#<namespace>", "OBJ#<name>")  an object;   ("...", "PROP#<name>") a property
- ("NS#<namespace>", "TAG#<name>")  a tag;       ("...", "RT#<name>") a resource type
                                    association; carries `rt_name` (sparse GSI key)
- ("RESOURCE_TYPES", "<name>")      a resource type (global, created on first association)

`data` holds the kind's own fields as JSON: property definitions are free-form JSON-schema
fragments, and a string keeps ints, floats and nesting exactly as the client sent them.
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model


class CatalogIndex(GlobalSecondaryIndex):
    """Every namespace header, by name. Sparse: only headers carry `catalog`."""

    class Meta:
        index_name = "by-catalog"
        projection = AllProjection()

    catalog = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class ResourceTypeIndex(GlobalSecondaryIndex):
    """The namespaces associated with a resource type. Sparse: only associations carry it."""

    class Meta:
        index_name = "by-resource-type"
        projection = KeysOnlyProjection()

    rt_name = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class MetadefModel(Model):
    """One item per namespace, object, property, tag, association or resource type."""

    class Meta:
        table_name = "unbound"
        settings_field = "metadefs_table"
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    data = UnicodeAttribute()
    catalog = UnicodeAttribute(null=True)
    rt_name = UnicodeAttribute(null=True)

    by_catalog = CatalogIndex()
    by_resource_type = ResourceTypeIndex()


METADEF_MODELS: tuple[type[Model], ...] = (MetadefModel,)
