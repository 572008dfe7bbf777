"""Reading and writing: layers from GIS files, coordinate systems, safe outputs, sample data.

Holds ``layers`` (read_layer), ``coords`` (CRS, GCJ-02/BD-09), ``outputs`` (atomic writing) and ``datasets``.
The bottom of the pipeline: it imports only :mod:`geoplan._errors`.
"""
