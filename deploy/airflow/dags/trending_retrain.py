"""Scheduled ML jobs of Trending Now, for Airflow 3.

Two DAGs, each step one call of the project's CLI (`trending ...`):

- ``trending_retrain``, daily: build the training dataset → train a candidate genre
  classifier → evaluate it against the production model → promote it, gated: the
  evaluation exits with code 99 when the candidate misses the gate, which marks that
  task *skipped* (not failed) and skips the promotion with it.
- ``trending_drift``, hourly: compare recent features with the production model's
  training reference; the report goes to the object store, the gauges to Prometheus.

Every argument derives from the run's data interval, and the dataset and model version
are named after the run's date, so a retried or re-run task overwrites its own output
instead of adding another.

Where the steps run (environment of the scheduler/DAG processor, read at parse time):

- ``TRENDING_AIRFLOW_RUNNER=kubernetes`` (default): a pod per step from the service image,
  with the same ConfigMap (``trending-config``) and Secret (``trending-secrets``) as the
  services in deploy/k8s. Needs ``apache-airflow-providers-cncf-kubernetes``.
- ``TRENDING_AIRFLOW_RUNNER=bash``: ``trending`` on the Airflow worker itself (the package
  installed there, settings in the worker's environment).

``TRENDING_IMAGE`` and ``TRENDING_NAMESPACE`` select the image and namespace of the pods.
"""

from __future__ import annotations

import os
import shlex
from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG, BaseOperator, chain
from kubernetes.client import models as k8s

RUNNER = os.environ.get("TRENDING_AIRFLOW_RUNNER", "kubernetes")
IMAGE = os.environ.get("TRENDING_IMAGE", "trending-now:latest")
NAMESPACE = os.environ.get("TRENDING_NAMESPACE", "trending")

# `trending classifier evaluate --gate` exits with this code when the candidate is not
# good enough to replace the production model; Airflow then marks the task skipped.
GATE_NOT_MET = 99

# Everything is derived from the run, so re-running a day reproduces that day. A manual
# run without a logical date (allowed since Airflow 3) uses the time it was queued for.
AS_OF = "{{ (data_interval_end or dag_run.run_after) | ts }}"
DATASET = "{{ (data_interval_end or dag_run.run_after) | ds }}"
VERSION = "{{ (data_interval_end or dag_run.run_after) | ds_nodash }}"

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "trending-ml",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
}

SMALL = k8s.V1ResourceRequirements(
    requests={"cpu": "250m", "memory": "512Mi"}, limits={"cpu": "1", "memory": "1Gi"}
)
LARGE = k8s.V1ResourceRequirements(
    requests={"cpu": "1", "memory": "2Gi"}, limits={"cpu": "2", "memory": "4Gi"}
)


def _secret_env(name: str, key: str, *, optional: bool = False) -> k8s.V1EnvVar:
    ref = k8s.V1SecretKeySelector(name="trending-secrets", key=key, optional=optional)
    return k8s.V1EnvVar(name=name, value_from=k8s.V1EnvVarSource(secret_key_ref=ref))


def cli(
    task_id: str,
    args: list[str],
    *,
    resources: k8s.V1ResourceRequirements = SMALL,
    timeout: timedelta = timedelta(minutes=30),
    skip_on_exit_code: int | None = None,
) -> BaseOperator:
    """Return a task that runs `trending <args>` in a pod, or in the worker's shell."""
    if RUNNER == "bash":
        return BashOperator(
            task_id=task_id,
            bash_command=shlex.join(["trending", *args]),
            append_env=True,
            skip_on_exit_code=skip_on_exit_code,
            execution_timeout=timeout,
        )
    return KubernetesPodOperator(
        task_id=task_id,
        name=f"trending-{task_id.replace('_', '-')}",
        namespace=NAMESPACE,
        image=IMAGE,
        cmds=["trending"],
        arguments=args,
        env_from=[
            k8s.V1EnvFromSource(config_map_ref=k8s.V1ConfigMapEnvSource(name="trending-config"))
        ],
        env_vars=[
            _secret_env("DATABASE_URL", "DATABASE_URL"),
            _secret_env("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID", optional=True),
            _secret_env("AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", optional=True),
        ],
        service_account_name="trending",
        container_resources=resources,
        security_context=k8s.V1PodSecurityContext(
            run_as_non_root=True,
            run_as_user=10001,
            run_as_group=10001,
            seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"),
        ),
        container_security_context=k8s.V1SecurityContext(
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            capabilities=k8s.V1Capabilities(drop=["ALL"]),
        ),
        volumes=[k8s.V1Volume(name="tmp", empty_dir=k8s.V1EmptyDirVolumeSource())],
        volume_mounts=[k8s.V1VolumeMount(name="tmp", mount_path="/tmp")],
        labels={"app.kubernetes.io/part-of": "trending-now", "trending/step": task_id},
        get_logs=True,
        reattach_on_restart=True,
        on_finish_action="delete_succeeded_pod",
        skip_on_exit_code=skip_on_exit_code,
        execution_timeout=timeout,
    )


with DAG(
    dag_id="trending_retrain",
    description="Daily: dataset → train → evaluate → promote the genre classifier (gated)",
    schedule="@daily",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    dagrun_timeout=timedelta(hours=4),
    tags=["trending-now", "ml"],
    doc_md=__doc__,
):
    build_dataset = cli(
        "build_dataset",
        ["classifier", "dataset", "--as-of", AS_OF, "--name", DATASET],
        resources=LARGE,
    )
    train = cli(
        "train",
        ["classifier", "train", "--dataset", DATASET, "--version", VERSION],
        resources=LARGE,
        timeout=timedelta(hours=2),
    )
    evaluate = cli(
        "evaluate",
        ["classifier", "evaluate", "--version", VERSION, "--gate"],
        resources=LARGE,
        skip_on_exit_code=GATE_NOT_MET,
    )
    # Runs only when the evaluation passed the gate (all upstream tasks succeeded).
    promote = cli("promote", ["classifier", "promote", "--version", VERSION])

    chain(build_dataset, train, evaluate, promote)


with DAG(
    dag_id="trending_drift",
    description="Hourly: feature drift against the production model's training reference",
    schedule="@hourly",
    start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    dagrun_timeout=timedelta(minutes=50),
    tags=["trending-now", "ml", "monitoring"],
    doc_md=__doc__,
):
    cli("drift_run", ["drift", "run", "--as-of", AS_OF], timeout=timedelta(minutes=30))
