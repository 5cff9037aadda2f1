#!/usr/bin/env python3
"""Unit tests of bench/compare_corpus.py's classifier (no svcc needed).

    python3 bench/test_compare_corpus.py

Run by tests/bench_corpus.rs when a python3 with PyYAML is available.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_corpus as cc  # noqa: E402


def classes(orig, full, bare=None, kind="Deployment", ctx=None):
    """{path: (class, rule)} for every leaf of orig."""
    bare = full if bare is None else bare
    ctx = ctx or cc.context([full] if full else [])
    out = {}
    for leaf, bare_leaf in zip(cc.walk(orig, full), cc.walk(orig, bare)):
        cls, rule, _ = cc.classify(kind, leaf, bare_leaf, True, ctx)
        out[leaf.path] = (cls, rule)
    return out


def deployment(container, **spec):
    pod = {"containers": [container]}
    pod.update(spec.pop("pod", {}))
    out = {"kind": "Deployment", "spec": {"template": {"spec": pod}}}
    out["spec"].update(spec)
    return out


class Classify(unittest.TestCase):
    def test_equal_values_are_native_and_quantities_compare_as_amounts(self):
        orig = deployment({"name": "a", "resources": {"limits": {"cpu": "2000m", "memory": "1024Mi"}}})
        gen = deployment({"name": "a", "resources": {"limits": {"cpu": "2", "memory": "1Gi"}}})
        got = classes(orig, gen)
        self.assertEqual(set(got.values()), {("native", None)}, got)

    def test_a_value_only_a_patch_gives_is_patch(self):
        orig = deployment({"name": "server"}, revisionHistoryLimit=5)
        full = deployment({"name": "server"}, revisionHistoryLimit=5)
        bare = deployment({"name": "svc"})
        got = classes(orig, full, bare)
        self.assertEqual(got["spec.template.spec.containers[main=server].name"], ("patch", None))
        self.assertEqual(got["spec.revisionHistoryLimit"], ("patch", None))

    def test_a_missing_or_different_value_is_impossible(self):
        orig = {"kind": "Service", "spec": {"selector": {"app": "a"}, "type": "LoadBalancer"}}
        gen = {"kind": "Service", "spec": {"selector": {"app.kubernetes.io/name": "a"}, "type": "ClusterIP"}}
        got = classes(orig, gen, kind="Service")
        self.assertEqual(got["spec.selector.app"], ("impossible", None))
        self.assertEqual(got["spec.type"], ("impossible", None))

    def test_a_selector_with_more_labels_selects_other_pods(self):
        orig = {"kind": "Service", "spec": {"selector": {"app": "a"}}}
        gen = {"kind": "Service", "spec": {"selector": {"app": "a", "version": "v1"}}}
        got = classes(orig, gen, kind="Service")
        self.assertEqual(got["spec.selector.app"], ("impossible", None))
        orig = deployment({"name": "a"}, selector={"matchLabels": {"app": "a"}})
        same = deployment({"name": "a"}, selector={"matchLabels": {"app": "a"}})
        more = deployment({"name": "a"}, selector={"matchLabels": {"app": "a", "v": "1"}})
        self.assertEqual(classes(orig, same)["spec.selector.matchLabels.app"], ("native", None))
        self.assertEqual(classes(orig, more)["spec.selector.matchLabels.app"], ("impossible", None))
        # labels that are not a selector may have more keys
        orig = {"kind": "Service", "metadata": {"labels": {"app": "a"}}}
        gen = {"kind": "Service", "metadata": {"labels": {"app": "a", "team": "x"}}}
        self.assertEqual(classes(orig, gen, kind="Service")["metadata.labels.app"], ("native", None))

    def test_by_design_rules(self):
        orig = deployment(
            {"name": "a", "image": "quay.io/x/a:latest", "ports": [{"containerPort": 8080}],
             "readinessProbe": {"httpGet": {"path": "/", "port": 8080}},
             "securityContext": {"runAsUser": 1000, "privileged": False, "capabilities": {"drop": ["all"]}}},
            pod={"restartPolicy": "Always"})
        gen = deployment(
            {"name": "a", "image": "quay.io/x/a:v1", "ports": [{"containerPort": 8080, "name": "http"}],
             "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
             "securityContext": {"capabilities": {"drop": ["ALL"]}}},
            pod={"securityContext": {"runAsUser": 1000}})
        got = classes(orig, gen)
        c = "spec.template.spec.containers[main=a]."
        self.assertEqual(got[c + "image"], ("by-design", "pinned-image"))
        self.assertEqual(got[c + "readinessProbe.httpGet.port"], ("by-design", "named-port"))
        self.assertEqual(got[c + "securityContext.runAsUser"], ("by-design", "pod-level-security"))
        self.assertEqual(got[c + "securityContext.privileged"], ("by-design", "api-default"))
        self.assertEqual(got[c + "securityContext.capabilities.drop[0]"], ("by-design", "capability-spelling"))
        self.assertEqual(got["spec.template.spec.restartPolicy"], ("by-design", "api-default"))

    def test_a_named_port_must_resolve_to_the_same_number(self):
        orig = {"kind": "Service", "spec": {"ports": [{"port": 80, "targetPort": 8080}]}}
        gen = {"kind": "Service", "spec": {"ports": [{"port": 80, "targetPort": "http"}]}}
        right = {"ports": {"http": 8080}, "pod_security": {}}
        wrong = {"ports": {"http": 9090}, "pod_security": {}}
        path = "spec.ports[port=80].targetPort"
        self.assertEqual(classes(orig, gen, kind="Service", ctx=right)[path], ("by-design", "named-port"))
        self.assertEqual(classes(orig, gen, kind="Service", ctx=wrong)[path], ("impossible", None))

    def test_another_image_is_not_pinning(self):
        orig = deployment({"name": "a", "image": "busybox:latest"})
        gen = deployment({"name": "a", "image": "alpine:3.20"})
        self.assertEqual(classes(orig, gen)["spec.template.spec.containers[main=a].image"], ("impossible", None))

    def test_a_pause_in_seconds_is_the_same_duration(self):
        orig = {"kind": "Rollout", "spec": {"strategy": {"canary": {"steps": [{"pause": {"duration": 90}}]}}}}
        gen = {"kind": "Rollout", "spec": {"strategy": {"canary": {"steps": [{"pause": {"duration": "1m30s"}}]}}}}
        got = classes(orig, gen, kind="Rollout")
        self.assertEqual(got["spec.strategy.canary.steps[0].pause.duration"], ("by-design", "duration-unit"))

    def test_an_obsolete_field_is_by_design_only_with_its_replacement(self):
        orig = {"kind": "AnalysisTemplate", "spec": {"metrics": [{"name": "m", "maxFailures": 2}]}}
        gen = {"kind": "AnalysisTemplate", "spec": {"metrics": [{"name": "m", "failureLimit": 2}]}}
        got = classes(orig, gen, kind="AnalysisTemplate")
        self.assertEqual(got["spec.metrics[m].maxFailures"], ("by-design", "obsolete-field"))
        gen["spec"]["metrics"][0]["failureLimit"] = 1
        got = classes(orig, gen, kind="AnalysisTemplate")
        self.assertEqual(got["spec.metrics[m].maxFailures"], ("impossible", None))
        orig = {"kind": "Rollout", "spec": {"strategy": {"canary": {"analysis": {"name": "t", "templateName": "t"}}}}}
        gen = {"kind": "Rollout", "spec": {"strategy": {"canary": {"analysis": {"templates": [{"templateName": "t"}]}}}}}
        got = classes(orig, gen, kind="Rollout")
        self.assertEqual(got["spec.strategy.canary.analysis.templateName"], ("by-design", "obsolete-field"))
        self.assertEqual(got["spec.strategy.canary.analysis.name"], ("by-design", "obsolete-field"))
        gen["spec"]["strategy"]["canary"]["analysis"]["templates"][0]["templateName"] = "other"
        got = classes(orig, gen, kind="Rollout")
        self.assertEqual(got["spec.strategy.canary.analysis.templateName"], ("impossible", None))
        # Without the analysis it belongs to, nothing replaces it.
        gen = {"kind": "Rollout", "spec": {"strategy": {"canary": {}}}}
        got = classes(orig, gen, kind="Rollout")
        self.assertEqual(got["spec.strategy.canary.analysis.templateName"], ("impossible", None))
        self.assertEqual(got["spec.strategy.canary.analysis.name"], ("impossible", None))

    def test_list_items_pair_by_key_not_position(self):
        orig = deployment({"name": "a", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]})
        gen = deployment({"name": "a", "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]})
        self.assertEqual(set(classes(orig, gen).values()), {("native", None)})

    def test_sidecars_pair_by_name_and_the_first_container_is_the_main_one(self):
        orig = deployment({"name": "server", "image": "x:1"})
        orig["spec"]["template"]["spec"]["containers"].append({"name": "proxy", "image": "p:1"})
        gen = deployment({"name": "svc", "image": "x:1"})
        got = classes(orig, gen)
        self.assertEqual(got["spec.template.spec.containers[main=server].image"], ("native", None))
        self.assertEqual(got["spec.template.spec.containers[proxy].image"], ("impossible", None))

    def test_feature_hints_name_issue_16_items(self):
        self.assertTrue(cc.hint("Deployment: spec.template.spec.containers[main].name").startswith("1."))
        self.assertTrue(cc.hint("Deployment: spec.selector.matchLabels.app").startswith("4."))
        self.assertTrue(cc.hint("Service: whole object not generated").startswith("6."))
        self.assertTrue(cc.hint("Rollout: spec.strategy.blueGreen.activeService").startswith("3."))


class Specs(unittest.TestCase):
    def test_strip_patches_removes_patch_blocks_only_and_keeps_lines(self):
        text = (
            'service a {\n'
            '    env { NOTE "patch Deployment { x }" }\n'
            '    patch Deployment {\n'
            '        set "/spec/x" { y "}" }\n'
            '    }\n'
            '    /* patch Service { } */\n'
            '    environment p { patch Service { remove "/a" } }\n'
            '}\n'
        )
        out = cc.strip_patches(text)
        self.assertEqual(out.count("\n"), text.count("\n"))
        self.assertIn('NOTE "patch Deployment { x }"', out)
        self.assertIn("/* patch Service { } */", out)
        self.assertNotIn('set "/spec/x"', out)
        self.assertNotIn('remove "/a"', out)
        self.assertIn("environment p {", out)

    def test_header_names_originals_objects_and_pairs(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "details.kdl")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write("// original: istio/istio a.yaml b.yaml\n"
                         "// objects: Service/details Deployment/details-v1\n"
                         "// match: Deployment/details-v1=Deployment/details\n"
                         "service details {\n}\n")
            spec = cc.Spec(path, tmp)
        self.assertEqual(spec.originals, [("istio/istio", "a.yaml"), ("istio/istio", "b.yaml")])
        self.assertEqual(spec.objects, ["Service/details", "Deployment/details-v1"])
        self.assertEqual(spec.matches, {"Deployment/details-v1": "Deployment/details"})
        self.assertEqual(spec.service, "details")

    def test_pairing_uses_explicit_pairs_then_names_then_roles(self):
        spec = type("S", (), {"matches": {"Service/a-active": "Service/a"}})()
        originals = [{"kind": "Rollout", "metadata": {"name": "a-v1"}},
                     {"kind": "Service", "metadata": {"name": "a-active"}},
                     {"kind": "Service", "metadata": {"name": "a-preview"}},
                     {"kind": "Service", "metadata": {"name": "a-metrics"}}]
        generated = [{"kind": "Service", "metadata": {"name": "a-preview"}},
                     {"kind": "Service", "metadata": {"name": "a"}},
                     {"kind": "Rollout", "metadata": {"name": "a"}}]
        pairs = [(cc.ref_of(o), cc.ref_of(g) if g else None) for o, g in cc.pair_objects(spec, originals, generated)]
        self.assertEqual(pairs, [("Rollout/a-v1", "Rollout/a"), ("Service/a-active", "Service/a"),
                                 ("Service/a-preview", "Service/a-preview"), ("Service/a-metrics", None)])


if __name__ == "__main__":
    unittest.main(verbosity=1)
