"""Installed hardware and its capacity.

ListAssets, ListAssetInstances, GetOutpostInstanceTypes, GetOutpostSupportedInstanceTypes.
"""
