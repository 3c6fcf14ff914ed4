"""MongoDB support that needs no server and no PyMongo: the mongosh-syntax parser, document
flattening, explain-plan reading, index advice and query fingerprints.

The driver (:mod:`engine.drivers.mongo`) is the only place that imports PyMongo.
"""
