"""The parts of scripts/deploy-check.sh that read the manifests (YAML, with PyYAML from the
kubernetes-validate virtualenv):

- kustomization.yaml lists exactly the manifests beside it;
- each workload's config, the ConfigMap keys its volume selects, passes
  `def validate --deny-warnings`;
- every DEF_* variable the manifests and the Dockerfile set is one `def` reads (`def env`).

Usage: deploy_check.py DEF_BINARY MANIFEST_DIR DOCKERFILE
"""

import os
import re
import subprocess
import sys
import tempfile

import yaml

WORKLOADS = {"Job", "StatefulSet", "Deployment", "DaemonSet", "CronJob"}


def fail(message):
    print(f"deploy_check.py: {message}", file=sys.stderr)
    sys.exit(1)


def documents(directory):
    for name in sorted(os.listdir(directory)):
        if name.endswith(".yaml") and name != "kustomization.yaml":
            with open(os.path.join(directory, name)) as f:
                for doc in yaml.safe_load_all(f):
                    if doc:
                        yield name, doc


def pod_spec(doc):
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def variables_read(binary):
    out = subprocess.run([binary, "env"], check=True, capture_output=True, text=True).stdout
    names = set(re.findall(r"^(DEF_[A-Z0-9_]+|LOAD)\b", out, re.M))
    if not names:
        fail(f"`{binary} env` listed no variables")
    return names


def main():
    binary, directory, dockerfile = sys.argv[1:4]
    docs = list(documents(directory))

    with open(os.path.join(directory, "kustomization.yaml")) as f:
        listed = set(yaml.safe_load(f)["resources"])
    present = {n for n in os.listdir(directory) if n.endswith(".yaml")} - {"kustomization.yaml"}
    if listed != present:
        fail(f"kustomization.yaml lists {sorted(listed)}, the folder has {sorted(present)}")

    config_maps = {d["metadata"]["name"]: d["data"] for _, d in docs if d["kind"] == "ConfigMap"}
    known = variables_read(binary)
    checked = 0
    for name, doc in docs:
        if doc["kind"] not in WORKLOADS:
            continue
        where = f"{name}: {doc['kind']} {doc['metadata']['name']}"
        spec = pod_spec(doc)
        for container in spec["containers"]:
            for var in container.get("env", []):
                if var["name"].startswith("DEF_") and var["name"] not in known:
                    fail(f"{where} sets {var['name']}, which def does not read")
        for volume in spec.get("volumes", []):
            cm = volume.get("configMap")
            if not cm:
                continue
            data = config_maps.get(cm["name"])
            if data is None:
                fail(f"{where} mounts ConfigMap {cm['name']}, which no manifest defines")
            keys = [item["key"] for item in cm.get("items", [])] or sorted(data)
            with tempfile.TemporaryDirectory() as tmp:
                for key in keys:
                    if key not in data:
                        fail(f"{where} mounts key {key}, which ConfigMap {cm['name']} lacks")
                    with open(os.path.join(tmp, key), "w") as f:
                        f.write(data[key])
                run = subprocess.run(
                    [binary, "validate", "--deny-warnings", tmp], capture_output=True, text=True
                )
                if run.returncode != 0:
                    fail(f"{where}: its config ({', '.join(keys)}) is invalid:\n{run.stderr}")
            checked += 1
    if checked == 0:
        fail("no workload mounts a config")

    with open(dockerfile) as f:
        for var in re.findall(r"\b(DEF_[A-Z0-9_]+)=", f.read()):
            if var not in known:
                fail(f"{dockerfile} mentions {var}, which def does not read")
    print(f"deploy_check.py: {checked} workload configs valid; every DEF_* variable is read")


if __name__ == "__main__":
    main()
