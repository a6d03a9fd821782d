"""Act: cases, the tamper-evident evidence log, notices and actions (issue 20; the Merkle tree is first).

One module per step; ``merkle`` is the pure RFC 9162 tree under the evidence log.
"""
