"""Structure of the Grafana dashboard configs/grafana/dplb.json, checked without Grafana (not in
Debian): what Grafana needs to import and draw it, that every query is PromQL that parses
(promtool, from Debian's prometheus package, parses them as recording rules) and names only
metric families of dplb-control's /metrics (the contract below, docs/operations.md). Whether
the queries return data is the Prometheus lab's job (tests/e2e/test_prometheus_lab.py).

Runs with the standard library: python3 dashboard_test.py [DASHBOARD.json]."""
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools"))
import dashboard_queries as dq  # noqa: E402

DASHBOARD_PATH = Path(sys.argv[1]) if len(sys.argv) > 1 else dq.DASHBOARD

# dplb-control's metric families (the names the metrics and dashboard work agreed on).
CONTRACT = {
    *(f"dplb_virtual_service_{n}_total" for n in
      ("connections", "incoming_packets", "outgoing_packets", "incoming_bytes", "outgoing_bytes")),
    *(f"dplb_real_server_{n}_total" for n in
      ("connections", "incoming_packets", "outgoing_packets", "incoming_bytes", "outgoing_bytes",
       "check_transitions")),
    "dplb_real_server_active_connections", "dplb_real_server_inactive_connections",
    "dplb_real_server_weight", "dplb_real_server_up", "dplb_real_server_check_duration_seconds",
    *(f"dplb_worker_{n}_total" for n in
      ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "redirected_out", "redirected_in", "drops")),
    "dplb_worker_sessions", "dplb_worker_sessions_capacity",
    "dplb_local_address_ports_in_use", "dplb_local_address_ports_capacity",
    "dplb_snapshot_generation", "dplb_snapshot_age_seconds",
    *(f"dplb_control_change_duration_seconds{s}" for s in ("_bucket", "_count", "_sum")),
    "dplb_dataplane_up", "dplb_vip_owned", "dplb_sync_daemon_info",
}
# The session sync counters the HA row draws (docs/ha.md, "Counters": `counters` become
# dplb_sync_<name>_total, `workers_total` dplb_<name>_total, the error groups
# dplb_sync_<group>_total{reason}).
SYNC_COUNTERS = {"messages_sent", "messages_received", "records_received", "send_errors", "receive_errors"}
SYNC_WORKER_COUNTERS = {"sync_installed"}
SYNC_ERROR_GROUPS = {"decode_errors", "image_errors", "resolve_errors"}
CONTRACT |= {f"dplb_sync_{n}_total" for n in SYNC_COUNTERS | SYNC_ERROR_GROUPS}
CONTRACT |= {f"dplb_{n}_total" for n in SYNC_WORKER_COUNTERS}
LABELS = {"instance", "job", "vip", "port", "proto", "fwmark", "real", "real_port", "worker", "reason", "laddr",
          "le", "state", "interface", "syncid"}
GRAFANA_BUILTINS = {"__rate_interval", "__interval", "__range", "__range_s", "__interval_ms"}
PANEL_TYPES = {"row", "timeseries", "stat", "state-timeline", "table", "gauge", "bargauge"}
DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
GRID_WIDTH = 24


class Dashboard(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = dq.load(DASHBOARD_PATH)
        cls.panels = list(dq.panels(cls.d))
        cls.drawn = [p for p in cls.panels if p["type"] != "row"]

    def test_importable_anywhere(self):
        d = self.d
        self.assertGreaterEqual(d["schemaVersion"], 36)
        self.assertTrue(d["uid"] and d["title"])
        self.assertIsNone(d.get("id"), "an exported dashboard carries no database id")
        self.assertEqual([(i["name"], i["type"], i["pluginId"]) for i in d["__inputs"]],
                         [("DS_PROMETHEUS", "datasource", "prometheus")])
        # The same name as a datasource variable: the dashboard also works when provisioned from
        # a file (no import dialog fills the input in).
        ds_vars = [v for v in d["templating"]["list"] if v["type"] == "datasource"]
        self.assertEqual([(v["name"], v["query"]) for v in ds_vars], [("DS_PROMETHEUS", "prometheus")])

    def test_panels_have_unique_ids_and_valid_types(self):
        ids = [p["id"] for p in self.panels]
        self.assertEqual(len(ids), len(set(ids)), f"duplicate panel ids: {sorted(ids)}")
        for p in self.panels:
            self.assertIsInstance(p["id"], int)
            self.assertIn(p["type"], PANEL_TYPES, p["title"])
            self.assertTrue(p["title"].strip(), p)

    def test_grid_positions_fit_and_do_not_overlap(self):
        cells = {}
        for p in self.panels:
            g = p["gridPos"]
            for k in ("h", "w", "x", "y"):
                self.assertIsInstance(g[k], int, f"{p['title']}: gridPos.{k}")
            self.assertTrue(g["h"] > 0 and g["w"] > 0 and g["x"] >= 0 and g["y"] >= 0, p["title"])
            self.assertLessEqual(g["x"] + g["w"], GRID_WIDTH, p["title"])
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    self.assertNotIn((x, y), cells, f"{p['title']} overlaps {cells.get((x, y))}")
                    cells[(x, y)] = p["title"]

    def test_every_panel_queries_prometheus(self):
        for p in self.drawn:
            with self.subTest(panel=p["title"]):
                self.assertEqual(p["datasource"], DATASOURCE)
                self.assertTrue(p["targets"], "a panel without queries")
                refs = [t["refId"] for t in p["targets"]]
                self.assertEqual(len(refs), len(set(refs)), f"duplicate refIds {refs}")
                for t in p["targets"]:
                    self.assertEqual(t["datasource"], DATASOURCE)
                    self.assertTrue(t["expr"].strip(), f"refId {t['refId']}: empty expr")
                    self.assertFalse(t.get("hide"), f"refId {t['refId']} hidden")

    def test_queries_name_only_contract_metrics_and_labels(self):
        exprs = [e for _, _, e, _ in dq.targets(self.d)] + list(dq.query_variables(self.d).values())
        used = set()
        for e in exprs:
            names = set(re.findall(r"\bdplb_\w+", e))
            self.assertTrue(names, f"no dplb metric in {e}")
            self.assertLessEqual(names, CONTRACT, f"not in the metrics contract: {names - CONTRACT} in {e}")
            used |= names
            for selector in re.findall(r"\{([^}]*)\}", dq.substitute(e)):
                for label in re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", selector):
                    self.assertIn(label, LABELS, e)
            for clause in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", e):
                for label in re.split(r"\s*,\s*", clause.strip()):
                    self.assertIn(label, LABELS, e)
        # The panels: traffic per VIP, connections per real server, drops by reason,
        # sessions vs capacity, health flips.
        for family in ("dplb_virtual_service_incoming_packets_total", "dplb_real_server_connections_total",
                       "dplb_worker_drops_total", "dplb_worker_sessions_capacity",
                       "dplb_real_server_check_transitions_total"):
            self.assertIn(family, used)

    def test_ha_row_draws_the_documented_sync_counters(self):
        """The HA row queries only the HA families, and the sync counters it draws are ones
        docs/ha.md's "Counters" block lists (the status fields the families are made from)."""
        ha = [t["expr"] for row, p in dq.panels_by_row(self.d) if row == dq.HA_ROW for t in p.get("targets", [])]
        self.assertTrue(ha, "no HA row")
        used = set()
        for e in ha:
            names = set(re.findall(r"\bdplb_\w+", e))
            self.assertTrue(all(n == "dplb_vip_owned" or n.startswith("dplb_sync_") for n in names), e)
            used |= names
        self.assertIn("dplb_vip_owned", used)
        self.assertIn("dplb_sync_daemon_info", used)
        doc = (Path(__file__).resolve().parents[3] / "docs" / "ha.md").read_text()
        block = re.search(r"### Counters.*?```(.*?)```", doc, re.S)
        self.assertIsNotNone(block, "docs/ha.md has no Counters block")
        for name in SYNC_COUNTERS | SYNC_WORKER_COUNTERS | SYNC_ERROR_GROUPS:
            self.assertRegex(block.group(1), rf"\b{name}\b")

    def test_variables_are_defined(self):
        defined = {v["name"] for v in self.d["templating"]["list"]} | GRAFANA_BUILTINS
        for title, ref, expr, _ in dq.targets(self.d):
            self.assertLessEqual(dq.variables_used(expr), defined, f"{title}/{ref}: {expr}")
        for name, query in dq.query_variables(self.d).items():
            self.assertRegex(query, r"^label_values\(.*, \w+\)$", name)
            self.assertLessEqual(dq.variables_used(query), defined, name)

    def test_queries_parse(self):
        promtool = shutil.which("promtool")
        if promtool is None:
            self.skipTest("promtool not installed (apt-get install prometheus; tools/bootstrap does)")
        exprs = [dq.substitute(e) for _, _, e, _ in dq.targets(self.d)]
        rules = "groups:\n  - name: dashboard\n    rules:\n" + "".join(
            f"      - record: dashboard_query_{i}\n        expr: '{e.replace(chr(39), chr(39) * 2)}'\n"
            for i, e in enumerate(exprs))
        with tempfile.TemporaryDirectory(prefix="dplb-dashboard-") as tmp:
            path = Path(tmp) / "rules.yml"
            path.write_text(rules)
            r = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"{len(exprs)} rules found", r.stdout)

    def test_substitution(self):
        self.assertEqual(dq.substitute('rate(x{vip=~"$vip"}[$__rate_interval])', {"vip": "10\\.0\\.0\\.1"}),
                         'rate(x{vip=~"10\\.0\\.0\\.1"}[15s])')
        self.assertEqual(dq.substitute('x{a=~"${real}"}[${__range}]'), 'x{a=~".*"}[5m]')
        with self.assertRaises(KeyError):
            dq.substitute("x[$__unknown_builtin]")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=1)
