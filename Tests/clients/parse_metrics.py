"""Fetches Slotgate's GET /metrics and parses it with the Prometheus project's own Python parser.

Usage: python3 parse_metrics.py URL [PASSWORD]

The text is read by prometheus_client.parser.text_string_to_metric_families, the parser of the
official Python client, so a line it rejects fails here. Besides what that parser accepts, the
rules the Prometheus server enforces and that parser lets through are checked too: one HELP and
one TYPE line per metric family, and no two samples with the same name and labels.

Prints one line "METRICS {json}" with a few figures (commands by name and outcome, latency
quantiles and counts by class, node gauges by node, slot map version, health) and exits 0, or
prints "FAIL: ..." and exits 1.
"""
import base64
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def fetch(url, password):
    request = urllib.request.Request(url)
    if password:
        token = base64.b64encode(f"admin:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        content_type = response.headers.get("Content-Type", "")
        return response.status, content_type, response.read().decode("utf-8")


def strict_checks(text):
    """What the Prometheus server rejects but the Python parser accepts."""
    problems = []
    seen_type, seen_help, seen_samples = set(), set(), set()
    for line in text.splitlines():
        if line.startswith("# TYPE ") or line.startswith("# HELP "):
            kind, name = line.split(" ", 3)[1:3]
            seen = seen_type if kind == "TYPE" else seen_help
            if name in seen:
                problems.append(f"second {kind} line for {name}")
            seen.add(name)
        elif line and not line.startswith("#"):
            series = line.rsplit(" ", 1)[0]
            if series in seen_samples:
                problems.append(f"duplicate sample {series}")
            seen_samples.add(series)
    return problems


def main():
    url = sys.argv[1]
    password = sys.argv[2] if len(sys.argv) > 2 else None
    status, content_type, text = fetch(url, password)
    if status != 200:
        raise AssertionError(f"GET {url} answered {status}")
    families = list(text_string_to_metric_families(text))
    summary = {
        "content_type": content_type,
        "families": len(families),
        "samples": sum(len(f.samples) for f in families),
        "types": {},
        "commands": {},
        "latency_quantiles": {},
        "latency_count": {},
        "node_link_up": {},
        "node_links": {},
        "node_requests": {},
        "slot_map_version": None,
        "slots_assigned": None,
        "healthy": None,
        "problems": strict_checks(text),
    }
    for family in families:
        summary["types"][family.name] = family.type
        for sample in family.samples:
            name, labels, value = sample.name, sample.labels, sample.value
            if name == "slotgate_commands_total":
                summary["commands"].setdefault(labels["command"], {})[labels["outcome"]] = value
            elif name == "slotgate_command_latency_seconds":
                summary["latency_quantiles"].setdefault(labels["class"], {})[labels["quantile"]] = value
            elif name in ("slotgate_command_latency_seconds_count", "slotgate_command_latency_seconds_count_total"):
                summary["latency_count"][labels["class"]] = value
            elif name == "slotgate_node_link_up":
                summary["node_link_up"][labels["node"]] = value
            elif name == "slotgate_node_links":
                summary["node_links"][labels["node"]] = value
            elif name == "slotgate_node_requests_total":
                summary["node_requests"][labels["node"]] = value
            elif name == "slotgate_slot_map_version":
                summary["slot_map_version"] = value
            elif name == "slotgate_slots_assigned":
                summary["slots_assigned"] = value
            elif name == "slotgate_healthy":
                summary["healthy"] = value
    print("METRICS " + json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # noqa: BLE001 - any failure is reported as one line
        print(f"FAIL: {type(error).__name__}: {error}")
        sys.exit(1)
