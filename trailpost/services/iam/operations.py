"""The IAM operation table every IAM family module registers its handlers in."""

from trailpost.services.base import OperationTable

ops = OperationTable("iam")
