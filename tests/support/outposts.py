"""Outposts request data many tests share: a valid site address and rack physical properties."""

from __future__ import annotations

ADDRESS = {
    "ContactName": "Jane Doe",
    "ContactPhoneNumber": "+12065550100",
    "AddressLine1": "410 Terry Ave N",
    "City": "Seattle",
    "StateOrRegion": "WA",
    "PostalCode": "98109",
    "CountryCode": "US",
}
RACK_PROPERTIES = {
    "PowerDrawKva": "POWER_15_KVA",
    "MaximumSupportedWeightLbs": "MAX_2000_LBS",
    "UplinkGbps": "UPLINK_100G",
}
