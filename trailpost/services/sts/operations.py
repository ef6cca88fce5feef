"""The STS operation table every STS family module registers its handlers in."""

from trailpost.services.base import OperationTable

ops = OperationTable("sts")
