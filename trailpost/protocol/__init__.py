"""The generic wire layer: botocore's service models drive routing, parsing, validation and serialization.

A service never parses or serializes anything itself; it receives snake_case params and returns a
snake_case result dict, and this package converts from and to the wire of its protocol.
"""
