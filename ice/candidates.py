"""Candidate priorities, foundations and local-interface enumeration (RFC 8445 §5.1)."""

from __future__ import annotations

import ipaddress
import zlib

# RFC 8445 §5.1.2.2 recommended type preferences.
TYPE_PREFERENCE = {"host": 126, "prflx": 110, "srflx": 100, "relay": 0}


def candidate_priority(type_preference: int, local_preference: int, component: int = 1) -> int:
    """RFC 8445 §5.1.2.1: 2^24*type_pref + 2^8*local_pref + (256 - component)."""
    if not 0 <= type_preference <= 126:
        raise ValueError("type preference out of range 0..126")
    if not 0 <= local_preference <= 0xFFFF:
        raise ValueError("local preference out of range 0..65535")
    if not 1 <= component <= 256:
        raise ValueError("component out of range 1..256")
    return (type_preference << 24) + (local_preference << 8) + (256 - component)


def local_preference(ipv6: bool, index: int = 0) -> int:
    """Local preference for the `index`-th address of a family; IPv6 ranks above IPv4 (RFC 8421).

    Values are unique per (type, family, index), as RFC 8445 §5.1.2.1 requires for multi-homing.
    """
    return (0xFFFF if ipv6 else 0x7FFF) - min(index, 0x7FFF)


def pair_priority(controlling_priority: int, controlled_priority: int) -> int:
    """RFC 8445 §6.1.2.3: 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D ? 1 : 0)."""
    g, d = controlling_priority, controlled_priority
    return (min(g, d) << 32) + 2 * max(g, d) + (1 if g > d else 0)


def compute_foundation(
    candidate_type: str,
    base_address: str,
    server_address: str | None = None,
    transport: str = "udp",
) -> str:
    """RFC 8445 §5.1.1.3: equal for the same type, base IP, server IP and transport.

    A decimal CRC-32 of those four values: stable across restarts, only ice-chars.
    """
    key = f"{candidate_type}|{base_address}|{server_address or ''}|{transport.lower()}"
    return str(zlib.crc32(key.encode()))


def is_ipv6(address: str) -> bool:
    """True for an IPv6 literal (a ':' never appears in IPv4 or host names)."""
    return ":" in address


def is_mdns_name(address: str) -> bool:
    """An mDNS host name (RFC 8445 candidates obfuscated per draft-ietf-mmusic-mdns-ice)."""
    return address.lower().rstrip(".").endswith(".local")


def normalize_address(address: str) -> str | None:
    """Canonical text of an IP literal, or None if `address` is not an IP literal."""
    try:
        return str(ipaddress.ip_address(address.split("%", 1)[0]))
    except ValueError:
        return None


def local_interface_addresses(include_loopback: bool = False, ipv6: bool = True) -> list[str]:
    """Usable unicast addresses of this host's interfaces (IPv6 first), read with `ifaddr`.

    Link-local addresses (169.254/16, fe80::/10) are skipped: they need a scope and are not useful
    candidates. Reading interfaces is not I/O on the network; binding sockets is the driver's job.
    """
    import ifaddr

    v6: list[str] = []
    v4: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            raw = ip.ip
            text = raw[0] if isinstance(raw, tuple) else raw
            try:
                parsed = ipaddress.ip_address(str(text).split("%", 1)[0])
            except ValueError:
                continue
            if parsed.is_link_local or parsed.is_multicast or parsed.is_unspecified:
                continue
            if parsed.is_loopback and not include_loopback:
                continue
            if parsed.version == 6:
                if ipv6:
                    v6.append(str(parsed))
            else:
                v4.append(str(parsed))
    out: list[str] = []
    for addr in v6 + v4:
        if addr not in out:
            out.append(addr)
    return out
