"""Godot's `@GlobalScope.Error` codes, with the same names and integer values."""

from __future__ import annotations

from enum import IntEnum


class Error(IntEnum):
    """Return codes of the Godot API (`@GlobalScope.Error`)."""

    OK = 0
    FAILED = 1
    ERR_UNAVAILABLE = 2
    ERR_UNCONFIGURED = 3
    ERR_UNAUTHORIZED = 4
    ERR_PARAMETER_RANGE_ERROR = 5
    ERR_OUT_OF_MEMORY = 6
    ERR_FILE_NOT_FOUND = 7
    ERR_FILE_BAD_DRIVE = 8
    ERR_FILE_BAD_PATH = 9
    ERR_FILE_NO_PERMISSION = 10
    ERR_FILE_ALREADY_IN_USE = 11
    ERR_FILE_CANT_OPEN = 12
    ERR_FILE_CANT_WRITE = 13
    ERR_FILE_CANT_READ = 14
    ERR_FILE_UNRECOGNIZED = 15
    ERR_FILE_CORRUPT = 16
    ERR_FILE_MISSING_DEPENDENCIES = 17
    ERR_FILE_EOF = 18
    ERR_CANT_OPEN = 19
    ERR_CANT_CREATE = 20
    ERR_QUERY_FAILED = 21
    ERR_ALREADY_IN_USE = 22
    ERR_LOCKED = 23
    ERR_TIMEOUT = 24
    ERR_CANT_CONNECT = 25
    ERR_CANT_RESOLVE = 26
    ERR_CONNECTION_ERROR = 27
    ERR_CANT_ACQUIRE_RESOURCE = 28
    ERR_CANT_FORK = 29
    ERR_INVALID_DATA = 30
    ERR_INVALID_PARAMETER = 31
    ERR_ALREADY_EXISTS = 32
    ERR_DOES_NOT_EXIST = 33
    ERR_DATABASE_CANT_READ = 34
    ERR_DATABASE_CANT_WRITE = 35
    ERR_COMPILATION_FAILED = 36
    ERR_METHOD_NOT_FOUND = 37
    ERR_LINK_FAILED = 38
    ERR_SCRIPT_FAILED = 39
    ERR_CYCLIC_LINK = 40
    ERR_INVALID_DECLARATION = 41
    ERR_DUPLICATE_SYMBOL = 42
    ERR_PARSE_ERROR = 43
    ERR_BUSY = 44
    ERR_SKIP = 45
    ERR_HELP = 46
    ERR_BUG = 47
    ERR_PRINTER_ON_FIRE = 48


# Which code each misuse returns (API.md "situation -> code"); one rule per situation.
INVALID_ARGUMENT = Error.ERR_INVALID_PARAMETER  # wrong type/range, unknown type/mid, bad options
INVALID_REMOTE_DATA = Error.ERR_INVALID_DATA  # SDP/candidate that does not parse or lacks WebRTC data
CLOSED_UNTIL_INITIALIZE = Error.ERR_UNCONFIGURED  # any call after close() before initialize()
CANNOT_OFFER = Error.FAILED  # create_offer() without a channel or outside STATE_NEW
WRONG_SIGNALING_STATE = Error.ERR_INVALID_PARAMETER  # description in the wrong signaling state
CHANNEL_ID_TAKEN = Error.ERR_ALREADY_IN_USE  # negotiated id already used
MESSAGE_TOO_LARGE = Error.ERR_INVALID_PARAMETER  # put_packet above the peer's max-message-size
CHANNEL_NOT_OPEN = Error.ERR_UNAVAILABLE  # put_packet on a channel that is not open
NOTHING_QUEUED = Error.ERR_UNAVAILABLE  # get_packet with an empty queue
