"""Moved to services/ratings/devices.py; kept for callers being moved."""

from .ratings.devices import (
    KEY_LEN,
    KEY_PREFIX_LEN,
    AuthError,
    DeviceAuth,
    DeviceError,
    authenticate,
    device_rows,
    get_device,
    hash_key,
    new_key,
    register_device,
    rotate_key,
    set_enabled,
)

__all__ = [
    "KEY_LEN",
    "KEY_PREFIX_LEN",
    "AuthError",
    "DeviceAuth",
    "DeviceError",
    "authenticate",
    "device_rows",
    "get_device",
    "hash_key",
    "new_key",
    "register_device",
    "rotate_key",
    "set_enabled",
]
