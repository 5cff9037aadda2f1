#!/usr/bin/env python3
"""Field-by-field comparison of public services with their svcc specs.

    python3 bench/compare_corpus.py ORIGINALS [SPECS] [--svcc BIN]
                                    [--json FILE] [--markdown FILE] [--details]

ORIGINALS is a folder of third-party manifests laid out as
ORIGINALS/<owner>/<repo>/<path> (docs/real-services.md says how to fetch
them; they are not in this repository). SPECS (default bench/corpus) holds
one svcc spec per public service. Each spec names what it reproduces in
its first comment lines:

    // original: <owner>/<repo> <path> [<path>...]   (one line per repository)
    // objects: Deployment/details-v1 Service/details ...   (optional: default all)
    // match: Deployment/details-v1=Deployment/details      (optional pairs)

Every spec is built twice with svcc: as written, and with its `patch`
blocks removed. Original objects are paired with generated ones (by kind
and name, then by role: the workload, the main Service, ...), and every
leaf field of each original object is classified:

  native      the generated object has the same value there, without patches
  patch       the same value only because of a `patch` in the spec
  by-design   a different value for one of the reasons in BY_DESIGN below
  impossible  a different value, or nothing, that no patch of the spec gives

Only what the original says is counted: a field svcc adds (a probe, a
securityContext, a PodDisruptionBudget) is not a field of the original.
A spec that does not build is reported, and all its fields count as
impossible. The report is Markdown (stdout or --markdown) and JSON (--json).
"""

import argparse
import collections
import decimal
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.exit("compare_corpus.py needs PyYAML: pip install pyyaml (or apt-get install python3-yaml)")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MISSING = object()
CLASSES = ("native", "patch", "by-design", "impossible")

# ---------------------------------------------------------------------------
# What counts as by design. Keep this list small, explicit and justified:
# each entry is a difference svcc makes on purpose, never a missing feature.
# ---------------------------------------------------------------------------

BY_DESIGN = {
    "named-port": (
        "targetPort and probe ports name the container port instead of repeating its number; "
        "the name resolves to the same number (language.md#port)."
    ),
    "pinned-image": (
        "The original deploys an untagged or `latest` image; svcc requires a pinned tag (SVC0306). "
        "Counted only when the repository is the same."
    ),
    "duration-unit": (
        "A duration the original gives as a bare number of seconds where the CRD wants a string "
        "(an AnalysisTemplate's `interval: 10`, which the API server refuses); svcc writes it with its unit (\"10s\")."
    ),
    "current-api": (
        "The original uses a deprecated API version (extensions/v1beta1, autoscaling/v2beta2, ...); "
        "svcc writes the current one of the same kind."
    ),
    "pod-level-security": (
        "runAsUser/runAsGroup/runAsNonRoot/seccompProfile set on the container in the original; "
        "svcc sets the same value once on the pod, which every container inherits."
    ),
    "capability-spelling": (
        "capabilities.drop `all` (lower case) in the original; svcc writes `ALL`, the spelling the "
        "restricted Pod Security Standard and container runtimes recognise."
    ),
    "read-only-config-mount": (
        "readOnly: false on a secret or config map mount; the kubelet mounts those read-only "
        "anyway, and svcc says so (readOnly: true)."
    ),
    "api-default": (
        "The original spells out the value the API server defaults to (privileged: false, "
        "restartPolicy: Always, readOnly: false, env: [], ...); svcc leaves it out: the object in the "
        "cluster is the same."
    ),
    "obsolete-field": (
        "The original uses a field Argo Rollouts has renamed or replaced, which its current CRD no longer "
        "has (the API server drops it): `maxFailures` (now `failureLimit`), an analysis' own `templateName` "
        "(now `templates[].templateName`) and `name`. svcc writes the current field, with the same value "
        "where there is one."
    ),
    "derived-labels": (
        "app.kubernetes.io/managed-by, name and instance are derived by svcc (SVC0312), and the version "
        "from the image tag or `version`; another version on one object is its `object` labels."
    ),
}

API_DEFAULTS = {
    ("privileged", False),
    ("restartPolicy", "Always"),
    ("readOnly", False),
    ("protocol", "TCP"),
    ("type", "ClusterIP"),
    ("env", ()),
    ("dnsPolicy", "ClusterFirst"),
    ("schedulerName", "default-scheduler"),
    ("sessionAffinity", "None"),
    ("successThreshold", 1),
    ("terminationMessagePath", "/dev/termination-log"),
}

CURRENT_API = {
    ("extensions/v1beta1", "apps/v1"),
    ("apps/v1beta1", "apps/v1"),
    ("apps/v1beta2", "apps/v1"),
    ("autoscaling/v2beta1", "autoscaling/v2"),
    ("autoscaling/v2beta2", "autoscaling/v2"),
    ("policy/v1beta1", "policy/v1"),
}

DERIVED_LABELS = {
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
}

# Fields of Argo Rollouts' older API that its current CRD does not have, by
# their parent and name: where the generated object holds the same value
# (a path from the same parent), or None when nothing replaces the field.
OBSOLETE_FIELDS = {
    ("metrics", "maxFailures"): ("failureLimit",),
    ("metrics", "maxInconclusive"): ("inconclusiveLimit",),
    ("analysis", "templateName"): ("templates", 0, "templateName"),
    ("analysis", "name"): None,
}

# Which language item (issue 16) would turn a missing group native: a
# heuristic on the group's path, for the report's "would be fixed by" column.
FEATURE_HINTS = [
    (r"containers\[main\]\.name$", "1. container names"),
    (r"spec\.(revisionHistoryLimit|minReadySeconds|progressDeadlineSeconds)$", "2. revisionHistoryLimit, minReadySeconds, progressDeadlineSeconds"),
    (r"(: metadata\.name$|\.(activeService|previewService|canaryService|stableService)$)", "3. object names"),
    (r"(selector|labelSelector)", "4. legacy selectors"),
    (r"(containers\[sidecar\]|initContainers)", "5. sidecars and init containers"),
    (r"^Service: (whole object|spec\.(type|clusterIP|ports|externalTrafficPolicy))", "6. extra Services and port mapping"),
    (r"^ServiceMonitor: ", "7. ServiceMonitor options"),
    (r"(volumes\[\*\]\.(configMap|secret)\.(items|optional|defaultMode)|httpHeaders|\.affinity|priorityClassName|hostPort)", "8. volume items, probe headers, affinity, priorityClassName"),
    (r"^[A-Za-z]+: metadata\.(labels|annotations)", "9. per-object labels and annotations"),
    (r"(^AnalysisTemplate: |strategy\.canary\.(analysis|steps\[\*\]\.analysis))", "10. custom AnalysisTemplates"),
    (r"securityContext", "11. security posture choices"),
    (r"^(Job|CronJob): ", "12. Jobs and CronJobs"),
    (r"volumes\[\*\]", "none: a volume declared but never mounted"),
    (r"^(ConfigMap|ExternalSecret): ", "13. ConfigMaps and ExternalSecrets"),
]

# ---------------------------------------------------------------------------
# Reading specs and originals
# ---------------------------------------------------------------------------


class Spec:
    """One spec file and the header that names its originals."""

    def __init__(self, path, specs_root):
        self.path = path
        self.rel = os.path.relpath(path, specs_root)
        with open(path, encoding="utf-8") as fh:
            self.text = fh.read()
        self.originals = []  # (repo, path)
        self.objects = []  # "Kind/name"
        self.matches = {}  # "Kind/orig" -> "Kind/generated"
        self.envs = []
        self._read_header()
        found = re.search(r"^\s*service\s+\"?([a-z0-9-]+)\"?", self.text, re.M)
        self.service = found.group(1) if found else os.path.splitext(os.path.basename(path))[0]

    def _read_header(self):
        for line in self.text.splitlines():
            m = re.match(r"\s*//\s*(original|objects|match|env):\s*(.*)$", line)
            if not m:
                continue
            key, words = m.group(1), m.group(2).split()
            if key == "original" and len(words) >= 2:
                self.originals += [(words[0], p) for p in words[1:]]
            elif key == "objects":
                self.objects += words
            elif key == "match":
                for pair in words:
                    left, _, right = pair.partition("=")
                    self.matches[left] = right
            elif key == "env":
                self.envs += words

    @property
    def repos(self):
        return sorted({repo for repo, _ in self.originals})


def load_originals(spec, originals_root):
    """The original objects a spec reproduces, in file order; raises on a missing file."""
    objects = []
    for repo, rel in spec.originals:
        path = os.path.join(originals_root, repo, rel)
        with open(path, encoding="utf-8") as fh:
            docs = [d for d in yaml.safe_load_all(fh) if isinstance(d, dict)]
        objects += docs
    if spec.objects:
        wanted = {ref: i for i, ref in enumerate(spec.objects)}
        objects = [o for o in objects if ref_of(o) in wanted]
        objects.sort(key=lambda o: wanted[ref_of(o)])
        missing = set(wanted) - {ref_of(o) for o in objects}
        if missing:
            raise ValueError("objects not found in the originals: " + ", ".join(sorted(missing)))
    return objects


def ref_of(obj):
    return "%s/%s" % (obj.get("kind"), (obj.get("metadata") or {}).get("name"))


# ---------------------------------------------------------------------------
# Building with svcc, with and without patches
# ---------------------------------------------------------------------------


PATCH_NODE = re.compile(r'patch\s+[A-Z][A-Za-z]*(\s+("[^"\n]*"|[A-Za-z0-9._-]+))?\s*\{')


def strip_patches(text):
    """The spec text with every `patch … { … }` node removed (line count kept)."""
    out, i, node_start = [], 0, True
    while i < len(text):
        skip = skip_trivia(text, i)
        if skip > i:
            out.append(text[i:skip])
            i = skip
            continue
        c = text[i]
        if node_start and PATCH_NODE.match(text, i):
            end = end_of_node(text, i)
            out.append(re.sub(r"[^\n]", "", text[i:end]))
            i = end
            continue
        out.append(c)
        node_start = c in "\n;{}" or (node_start and c in " \t\r")
        i += 1
    return "".join(out)


def skip_trivia(text, i):
    """The index after a comment or string starting at i (i itself if none)."""
    if text.startswith("//", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith("/*", i):
        depth, j = 1, i + 2
        while j < len(text) and depth:
            if text.startswith("/*", j):
                depth, j = depth + 1, j + 2
            elif text.startswith("*/", j):
                depth, j = depth - 1, j + 2
            else:
                j += 1
        return j
    raw = re.match(r'(#+)"', text[i:i + 64])
    if raw:
        close = '"' + raw.group(1)
        end = text.find(close, i + len(raw.group(0)))
        return len(text) if end < 0 else end + len(close)
    if text.startswith('"""', i):
        end = text.find('"""', i + 3)
        return len(text) if end < 0 else end + 3
    if text[i] == '"':
        j = i + 1
        while j < len(text) and text[j] != '"':
            j += 2 if text[j] == "\\" else 1
        return j + 1
    return i


def end_of_node(text, i):
    """The index after the children block of the node starting at i."""
    depth, j = 0, i
    while j < len(text):
        skip = skip_trivia(text, j)
        if skip > j:
            j = skip
            continue
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth <= 0:
                return j + 1 if depth == 0 else j
        elif text[j] in "\n;" and depth == 0:
            return j
        j += 1
    return j


def svcc_build(svcc, spec_path, envs):
    """(objects, None) or (None, error text) for one spec file."""
    cmd = [svcc, "build", "--color", "never", spec_path]
    for env in envs:
        cmd += ["--env", env]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, str(err)
    if run.returncode != 0:
        return None, (run.stderr or run.stdout).strip()
    try:
        docs = [d for d in yaml.safe_load_all(run.stdout) if isinstance(d, dict)]
    except yaml.YAMLError as err:
        return None, "svcc output is not YAML: %s" % err
    return docs, None


def build_both(svcc, spec):
    """Objects as written, objects without patches, and the errors of each."""
    full, error = svcc_build(svcc, spec.path, spec.envs)
    stripped = strip_patches(spec.text)
    if stripped == spec.text or full is None:
        return full, full, error, None
    folder = os.path.dirname(spec.path)
    fd, tmp = tempfile.mkstemp(prefix=".nopatch-", suffix=".kdl", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(stripped)
        bare, bare_error = svcc_build(svcc, tmp, spec.envs)
    finally:
        os.unlink(tmp)
    return full, bare, error, bare_error


# ---------------------------------------------------------------------------
# Pairing original objects with generated ones
# ---------------------------------------------------------------------------

WORKLOADS = ("Deployment", "Rollout", "StatefulSet", "DaemonSet")


def role_kind(kind):
    return "workload" if kind in WORKLOADS else kind


def pair_objects(spec, originals, generated):
    """[(original, generated or None)] in the originals' order."""
    left = list(generated)
    pairs = {}

    def take(i, obj):
        pairs[i] = obj
        left.remove(obj)

    for i, orig in enumerate(originals):  # explicit pairs
        target = spec.matches.get(ref_of(orig))
        found = [g for g in left if ref_of(g) == target]
        if found:
            take(i, found[0])
    for i, orig in enumerate(originals):  # same kind and name
        found = [g for g in left if i not in pairs and ref_of(g) == ref_of(orig)]
        if found:
            take(i, found[0])
    for i, orig in enumerate(originals):  # same role, in order
        found = [g for g in left if i not in pairs and role_kind(g.get("kind")) == role_kind(orig.get("kind"))]
        if found:
            take(i, found[0])
    return [(orig, pairs.get(i)) for i, orig in enumerate(originals)]


# ---------------------------------------------------------------------------
# Walking the leaves of an original object
# ---------------------------------------------------------------------------

LIST_KEYS = {
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "ports": ("containerPort", "port"),
    "endpoints": ("port", "targetPort"),
    "groups": ("name",),
    "rules": ("alert", "record"),
    "imagePullSecrets": ("name",),
    "tolerations": ("key",),
    "httpHeaders": ("name",),
    "topologySpreadConstraints": ("topologyKey",),
    "templates": ("templateName",),
    "args": ("name",),
    "metrics": ("name",),
    "hostAliases": ("ip",),
}


def item_key(parent, item):
    """The identity of a list item (None: match by position)."""
    if not isinstance(item, dict):
        return None
    for field in LIST_KEYS.get(parent, ()):
        if field in item:
            return "%s=%s" % (field, item[field]) if field not in ("name",) else str(item[field])
    if parent == "metrics" and "type" in item:  # HPA metrics
        body = item.get(item["type"][0].lower() + item["type"][1:], {})
        name = body.get("name") or (body.get("metric") or {}).get("name")
        return "%s/%s" % (item["type"], name)
    if parent == "envFrom":
        for ref in ("configMapRef", "secretRef"):
            if ref in item:
                return "%s/%s" % (ref, item[ref].get("name"))
    return None


class Leaf:
    __slots__ = ("path", "group", "orig", "value", "missing_at", "keys", "extra", "parent")

    def __init__(self, path, group, orig, value, missing_at, keys, extra=None, parent=None):
        self.path, self.group, self.orig, self.value = path, group, orig, value
        self.missing_at, self.keys, self.extra, self.parent = missing_at, keys, extra, parent


def is_selector(keys, orig):
    """Whether orig, at keys, is a label selector map (a Service's spec.selector, any matchLabels)."""
    if not isinstance(orig, dict) or not all(isinstance(v, str) for v in orig.values()):
        return False
    return keys[-1:] == ("matchLabels",) or keys == ("spec", "selector")


def walk(orig, gen, path="", group="", keys=(), missing_at=None, extra=None, parent=None):
    """Yield a Leaf for every scalar (or empty collection) of orig.

    A selector selects by all its labels: a generated selector with a label
    the original's lacks selects other pods, so each of the original's
    labels there carries the extra ones (Leaf.extra) and is not the same.
    """
    if isinstance(orig, dict) and orig:
        if is_selector(keys, orig) and isinstance(gen, dict):
            extra = {k: v for k, v in gen.items() if k not in orig} or None
        for k in orig:
            sub = gen.get(k, MISSING) if isinstance(gen, dict) else MISSING
            p = "%s.%s" % (path, k) if path else k
            g = "%s.%s" % (group, k) if group else k
            m = missing_at if missing_at or sub is not MISSING else g
            yield from walk(orig[k], sub, p, g, keys + (k,), m, extra, gen if isinstance(gen, dict) else None)
    elif isinstance(orig, list) and orig:
        yield from walk_list(orig, gen, path, group, keys, missing_at)
    else:
        yield Leaf(path, group, orig, gen, missing_at, keys, extra, parent)


def walk_list(orig, gen, path, group, keys, missing_at):
    parent = keys[-1] if keys else ""
    gen_list = gen if isinstance(gen, list) else []
    if parent in ("containers", "initContainers", "ephemeralContainers"):
        pairs = pair_containers(parent, orig, gen_list)
    else:
        pairs = pair_items(parent, orig, gen_list)
    for label, glabel, item, sub in pairs:
        p, g = "%s[%s]" % (path, label), "%s[%s]" % (group, glabel)
        m = missing_at if missing_at or sub is not MISSING else g
        yield from walk(item, sub, p, g, keys + ("[]",), m)


def pair_items(parent, orig, gen_list):
    keyed = [item_key(parent, x) for x in orig]
    if all(k is not None for k in keyed) and len(set(keyed)) == len(keyed):
        index = {item_key(parent, x): x for x in gen_list}
        return [(k, "*", x, index.get(k, MISSING)) for k, x in zip(keyed, orig)]
    return [(str(i), "*", x, gen_list[i] if i < len(gen_list) else MISSING) for i, x in enumerate(orig)]


def pair_containers(parent, orig, gen_list):
    """The first original container is the main one; the others match by name."""
    by_name = {c.get("name"): c for c in gen_list if isinstance(c, dict)}
    out = []
    for i, c in enumerate(orig):
        name = c.get("name")
        if parent == "containers" and i == 0:
            sub = by_name.get(name) or (gen_list[0] if gen_list else MISSING)
            out.append(("main=%s" % name, "main", c, sub))
        else:
            sub = by_name.get(name, MISSING)
            out.append((name, "sidecar" if parent == "containers" else "*", c, sub))
    return out


# ---------------------------------------------------------------------------
# Classifying one leaf
# ---------------------------------------------------------------------------

QUANTITY = re.compile(r"^([0-9.]+(?:[eE][-+]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
SUFFIX = {"m": decimal.Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
          "P": 10**15, "E": 10**18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
          "Pi": 2**50, "Ei": 2**60, None: 1}


def quantity(value):
    m = QUANTITY.match(str(value))
    if not m or isinstance(value, bool):
        return None
    return decimal.Decimal(m.group(1)) * decimal.Decimal(SUFFIX[m.group(2)])


def same(leaf, value):
    """Whether value is what the original says at leaf (quantities compared as amounts)."""
    o = leaf.orig
    if value is MISSING or leaf.extra:
        return False
    if isinstance(o, dict):  # an empty object: its presence is what it says
        return isinstance(value, dict) and (not value or leaf.keys[-1:] == ("emptyDir",))
    if isinstance(o, list):
        return value == []
    if type(o) is bool or type(value) is bool:
        return type(o) is type(value) and o == value
    if "resources" in leaf.keys or leaf.keys[-1:] == ("sizeLimit",):
        qo, qv = quantity(o), quantity(value)
        if qo is not None and qv is not None:
            return qo == qv
    return type(o) is type(value) and o == value


def by_design(kind, leaf, ctx):
    """The BY_DESIGN rule that explains the difference at leaf, or None."""
    keys, o, a, last = leaf.keys, leaf.orig, leaf.value, leaf.keys[-1] if leaf.keys else ""
    named = [k for k in keys if k != "[]"]
    if last in ("targetPort", "port") and type(o) is int and isinstance(a, str) and ctx["ports"].get(a) == o:
        return "named-port"
    if last == "image" and isinstance(o, str) and isinstance(a, str) and pinned(o, a):
        return "pinned-image"
    if type(o) is int and isinstance(a, str) and seconds(a) == o and last in DURATION_FIELDS:
        return "duration-unit"
    if named == ["apiVersion"] and (o, a) in CURRENT_API:
        return "current-api"
    if pod_level(named, o, a, ctx):
        return "pod-level-security"
    if "drop" in named and isinstance(o, str) and o.lower() == "all" and a == "ALL":
        return "capability-spelling"
    if last == "readOnly" and o is False and a is True:
        return "read-only-config-mount"
    if a is MISSING and (last, tuple(o) if isinstance(o, list) else o) in API_DEFAULTS:
        return "api-default"
    if len(named) >= 2 and named[-2] == "labels" and named[-1] in DERIVED_LABELS:
        return "derived-labels"
    if a is MISSING and obsolete(named, o, leaf.parent):
        return "obsolete-field"
    return None


def obsolete(named, orig, parent):
    """Whether the field at named is an obsolete Argo Rollouts field whose
    replacement (if any) holds the same value in parent (the generated object
    around it)."""
    if len(named) < 2 or tuple(named[-2:]) not in OBSOLETE_FIELDS or not isinstance(parent, dict):
        return False
    where = OBSOLETE_FIELDS[tuple(named[-2:])]
    if where is None:
        return True
    value = parent
    for step in where:
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and len(value) > step else MISSING
        else:
            value = value.get(step, MISSING) if isinstance(value, dict) else MISSING
    return value is not MISSING and type(value) is type(orig) and value == orig


DURATION_FIELDS = {"duration", "interval", "scaleDownDelaySeconds"}
DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def seconds(text):
    """The seconds of a duration such as "1m30s" (None if it is not one)."""
    m = DURATION.match(text)
    if not m or not any(m.groups()):
        return None
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    return h * 3600 + mi * 60 + s


def pinned(orig, gen):
    repo, tag = split_image(orig)
    grepo, gtag = split_image(gen)
    return repo == grepo and tag in (None, "latest") and gtag not in (None, "latest")


def split_image(ref):
    ref = ref.split("@")[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1:]
    return ref, None


def pod_level(named, o, a, ctx):
    if a is not MISSING or "securityContext" not in named or "containers" not in named:
        return False
    field = named[named.index("securityContext") + 1:]
    value = ctx["pod_security"]
    for k in field:
        value = value.get(k, MISSING) if isinstance(value, dict) else MISSING
    return field[:1] in (["runAsUser"], ["runAsGroup"], ["runAsNonRoot"], ["seccompProfile"]) and value == o


def classify(kind, leaf, bare_leaf, bare_ok, ctx):
    """(class, rule or None, group)."""
    if same(leaf, leaf.value):
        if bare_ok and same(bare_leaf, bare_leaf.value):
            return "native", None, None
        group = bare_leaf.missing_at or bare_leaf.group
        return "patch", None, "%s: %s" % (kind, collapse(group, bare_leaf.group))
    rule = by_design(kind, leaf, ctx)
    if rule:
        return "by-design", rule, None
    return "impossible", None, "%s: %s" % (kind, collapse(leaf.missing_at or leaf.group, leaf.group))


def collapse(missing_at, group):
    return missing_at if missing_at == group else missing_at + ".*"


def context(generated):
    """What the by-design rules need to know about the generated objects."""
    ports, pod_security = {}, {}
    for obj in generated or []:
        spec = obj.get("spec") or {}
        if obj.get("kind") in WORKLOADS:
            pod = (spec.get("template") or {}).get("spec") or {}
            pod_security = pod.get("securityContext") or {}
            for c in pod.get("containers", []) + pod.get("initContainers", []):
                for p in c.get("ports", []):
                    ports[p.get("name")] = p.get("containerPort")
    return {"ports": ports, "pod_security": pod_security}


# ---------------------------------------------------------------------------
# One service
# ---------------------------------------------------------------------------


def compare_service(svcc, spec, originals_root):
    result = {"spec": spec.rel, "service": spec.service, "repos": spec.repos,
              "originals": ["%s %s" % o for o in spec.originals], "error": None, "notes": [],
              "counts": dict.fromkeys(CLASSES, 0), "fields": []}
    try:
        originals = load_originals(spec, originals_root)
    except (OSError, ValueError, yaml.YAMLError) as err:
        result["error"] = "originals: %s" % err
        return result
    full, bare, error, bare_error = build_both(svcc, spec)
    if full is None:
        result["error"] = "svcc build failed: %s" % first_lines(error)
    elif bare is None:
        result["notes"].append("the spec does not build without its patches (%s); "
                               "fields equal with patches count as patch" % first_lines(bare_error))
    ctx = context(full)
    full_pairs = pair_objects(spec, originals, full or [])
    bare_pairs = pair_objects(spec, originals, bare or [])
    for (orig, gen), (_, bgen) in zip(full_pairs, bare_pairs):
        add_object_fields(result, orig, gen, bgen, bare is not None, ctx)
    return result


def add_object_fields(result, orig, gen, bgen, bare_ok, ctx):
    kind = orig.get("kind", "?")
    leaves = walk(orig, gen if gen is not None else MISSING)
    bare_leaves = walk(orig, bgen if bgen is not None else MISSING)
    for leaf, bare_leaf in zip(leaves, bare_leaves):
        if gen is None:
            cls, rule, group = "impossible", None, "%s: whole object not generated" % kind
        else:
            cls, rule, group = classify(kind, leaf, bare_leaf, bare_ok, ctx)
        result["counts"][cls] += 1
        result["fields"].append({
            "object": ref_of(orig), "generated": ref_of(gen) if gen is not None else None,
            "path": leaf.path, "class": cls, "rule": rule, "group": group,
            "original": plain(leaf.orig), "svcc": plain(leaf.value) if not leaf.extra else
            "%s, and also %s" % (plain(leaf.value), ", ".join("%s=%s" % kv for kv in sorted(leaf.extra.items()))),
        })


def plain(value):
    return None if value is MISSING else value


def first_lines(text, n=3):
    lines = [l for l in (text or "").splitlines() if l.strip()]
    return " / ".join(lines[:n])[:400]


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def percent(part, whole):
    return "%.1f%%" % (100.0 * part / whole) if whole else "–"


def totals(results):
    total = dict.fromkeys(CLASSES, 0)
    for r in results:
        for c in CLASSES:
            total[c] += r["counts"][c]
    return total


def grouped(results, cls):
    """{group: (fields, services, hint)} for one class, largest first."""
    groups = collections.defaultdict(lambda: [0, set()])
    for r in results:
        for f in r["fields"]:
            if f["class"] == cls:
                key = f["rule"] if cls == "by-design" else f["group"]
                groups[key][0] += 1
                groups[key][1].add(r["service"])
    rows = [(g, n, sorted(s), hint(g) if cls != "by-design" else "") for g, (n, s) in groups.items()]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def hint(group):
    for pattern, item in FEATURE_HINTS:
        if re.search(pattern, group or ""):
            return item
    return ""


def markdown(results):
    t = totals(results)
    n = sum(t.values())
    repos = sorted({repo for r in results for repo in r["repos"]})
    out = ["# svcc against public services", "",
           "%d services from %d repositories, %d fields of the originals." % (len(results), len(repos), n), "",
           "| | fields | share |", "|---|---:|---:|"]
    for c in CLASSES:
        out.append("| %s | %d | %s |" % (c, t[c], percent(t[c], n)))
    out.append("| **native or by design** | %d | **%s** |" % (t["native"] + t["by-design"], percent(t["native"] + t["by-design"], n)))
    out += ["", "## Per service", "",
            "| service | repository | fields | native | patch | by-design | impossible | native or by design |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        c, total = r["counts"], sum(r["counts"].values())
        name = r["service"] + (" ⚠ " + r["error"] if r["error"] else "")
        out.append("| %s | %s | %d | %d | %d | %d | %d | %s |" % (
            name, ", ".join(r["repos"]), total, c["native"], c["patch"], c["by-design"],
            c["impossible"], percent(c["native"] + c["by-design"], total)))
    out += group_tables(results)
    return "\n".join(out) + "\n"


def by_item(results):
    """[(issue-16 item, impossible fields, patch fields, services)] for the report."""
    items = collections.defaultdict(lambda: [0, 0, set()])
    for r in results:
        for f in r["fields"]:
            if f["class"] in ("impossible", "patch"):
                row = items[hint(f["group"]) or "none"]
                row[0 if f["class"] == "impossible" else 1] += 1
                row[2].add(r["service"])
    return sorted(((k, i, p, sorted(s)) for k, (i, p, s) in items.items()), key=lambda row: (-row[1] - row[2], row[0]))


def group_tables(results):
    out = ["", "## What is missing, by issue-16 item", "",
           "| item | impossible | patch | services |", "|---|---:|---:|---:|"]
    out += ["| %s | %d | %d | %d |" % (k, i, p, len(s)) for k, i, p, s in by_item(results)]
    for cls, title in (("impossible", "Impossible fields, by group"), ("patch", "Fields that need a patch, by group")):
        rows = grouped(results, cls)
        out += ["", "## " + title, ""]
        if not rows:
            out.append("None.")
            continue
        out += ["| group | fields | services | would be fixed by |", "|---|---:|---|---|"]
        out += ["| `%s` | %d | %s | %s |" % (g, n, services_cell(s), h) for g, n, s, h in rows]
    out += ["", "## By design, by rule", "", "| rule | fields | services | reason |", "|---|---:|---:|---|"]
    for rule, n, s, _ in grouped(results, "by-design"):
        out.append("| %s | %d | %d | %s |" % (rule, n, len(s), BY_DESIGN[rule]))
    notes = [(r["service"], note) for r in results for note in r["notes"]]
    if notes:
        out += ["", "## Notes", ""] + ["- %s: %s" % note for note in notes]
    return out


def services_cell(services):
    return ", ".join(services) if len(services) <= 4 else "%s and %d more" % (", ".join(services[:3]), len(services) - 3)


def details(results):
    out = ["", "## Every field that is not native", ""]
    for r in results:
        rows = [f for f in r["fields"] if f["class"] != "native"]
        if not rows:
            continue
        out += ["### %s (%s)" % (r["service"], r["spec"]), "", "| object | path | class | original | svcc |", "|---|---|---|---|---|"]
        for f in rows:
            cls = f["class"] + (" (%s)" % f["rule"] if f["rule"] else "")
            out.append("| %s | `%s` | %s | `%s` | `%s` |" % (f["object"], f["path"], cls, short(f["original"]), short(f["svcc"])))
        out.append("")
    return "\n".join(out)


def short(value):
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    text = text.replace("|", "\\|").replace("\n", "⏎")
    return text if len(text) <= 60 else text[:57] + "..."


def as_json(results):
    t = totals(results)
    return {
        "services": len(results),
        "repositories": sorted({repo for r in results for repo in r["repos"]}),
        "totals": t,
        "native_or_by_design": (t["native"] + t["by-design"]) / max(1, sum(t.values())),
        "groups": {cls: [{"group": g, "fields": n, "services": s, "hint": h} for g, n, s, h in grouped(results, cls)]
                   for cls in ("impossible", "patch", "by-design")},
        "by_design_rules": BY_DESIGN,
        "results": results,
    }


# ---------------------------------------------------------------------------


def find_svcc(given):
    for candidate in (given, os.environ.get("SVCC_BIN"), os.path.join(ROOT, "target", "release", "svcc"),
                      os.path.join(os.environ.get("CARGO_TARGET_DIR", ""), "release", "svcc"), shutil.which("svcc")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    sys.exit("no svcc binary: build it (cargo build --release) or pass --svcc BIN")


def find_specs(specs_root):
    found = []
    for folder, dirs, files in os.walk(specs_root):
        dirs.sort()
        found += [os.path.join(folder, f) for f in sorted(files) if f.endswith(".kdl") and not f.startswith(".")]
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("originals", help="folder of original manifests: ORIGINALS/<owner>/<repo>/<path>")
    parser.add_argument("specs", nargs="?", default=os.path.join(HERE, "corpus"), help="folder of specs (default bench/corpus)")
    parser.add_argument("--svcc", help="the svcc binary (default: $SVCC_BIN, target/release/svcc, PATH)")
    parser.add_argument("--json", metavar="FILE", help="also write the full result as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="write the Markdown report here instead of stdout")
    parser.add_argument("--details", action="store_true", help="list every field that is not native")
    args = parser.parse_args(argv)
    svcc = find_svcc(args.svcc)
    specs = [Spec(p, args.specs) for p in find_specs(args.specs)]
    if not specs:
        sys.exit("no *.kdl spec under %s" % args.specs)
    results = [compare_service(svcc, spec, args.originals) for spec in specs]
    report = markdown(results) + (details(results) if args.details else "")
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(report)
    else:
        sys.stdout.write(report)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(as_json(results), fh, indent=2, ensure_ascii=False, default=str)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
