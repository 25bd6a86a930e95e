#!/usr/bin/env python3
"""Usage: scripts/moto_server.py [moto_server options, e.g. -H 127.0.0.1 -p 5000]

moto's server, as `.venv/bin/moto_server` starts it, with one change: the rollback of a
DynamoDB TransactWriteItems. moto keeps a deep copy of every table a transaction writes to,
one per write, to restore if a condition fails; with a few hundred items in a table that is
tens of milliseconds per transaction, and a test suite that writes every change with its event
in one transaction times out. This wrapper keeps instead what a rollback needs: each item the
transaction touches as it was, and how long each table's stream was. On a refused transaction
it puts those items back and cuts the streams back, so the table and its stream end as moto's
own rollback leaves them. Everything else is moto unchanged.
"""

import copy
import sys

from moto.dynamodb import models
from moto.server import main

_deepcopy = copy.deepcopy


class _TablesNotCopied:
    """Stands in for `copy` inside moto's transact_write_items: tables are not copied (this
    wrapper restores what it touched), anything else is."""

    @staticmethod
    def deepcopy(value, memo=None):
        if isinstance(value, models.Table):
            return value
        return _deepcopy(value, memo)


_transact = models.DynamoDBBackend.transact_write_items


def _key(table, op):
    if "Key" in op:
        return op["Key"]
    item = op.get("Item", {})
    names = [table.hash_key_attr, table.range_key_attr]
    return {name: item[name] for name in names if name and name in item}


def transact_write_items(self, transact_items):
    touched = []
    streams = {}
    for entry in transact_items:
        if len(entry) != 1:
            continue
        op = next(iter(entry.values()))
        name = op.get("TableName")
        table = self.tables.get(name)
        if table is None:
            continue
        key = _key(table, op)
        before = self.get_item(name, key) if key else None
        touched.append((name, key, _deepcopy(before) if before is not None else None))
        if table.stream_shard is not None:
            streams.setdefault(name, len(table.stream_shard.items))
    models.copy = _TablesNotCopied
    try:
        return _transact(self, transact_items)
    except Exception:
        for name, key, before in reversed(touched):
            if before is None:
                if key and self.get_item(name, key) is not None:
                    self.delete_item(name, key)
            else:
                self.put_item(name, before.to_json()["Attributes"])
        for name, length in streams.items():
            shard = self.tables[name].stream_shard
            del shard.items[length:]
        raise
    finally:
        models.copy = copy


models.DynamoDBBackend.transact_write_items = transact_write_items

if __name__ == "__main__":
    sys.exit(main())
