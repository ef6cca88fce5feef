"""The CloudTrail operation table every family module registers its handlers in."""

from trailpost.services.base import OperationTable

ops = OperationTable("cloudtrail")
