"""Hosting on Ray (one local Ray session for this module): named actors and Serve."""

import pytest
import ray
from reasoner_helpers import model_config, pitch_result, request

from audiorouter.reasoner.actor import answer_with_actors, reasoner_actors, start_reasoner_actors


@pytest.fixture(scope="module", autouse=True)
def serve_shutdown(ray_session):
    """Ray comes from tests/conftest.py; Serve is shut down before Ray is."""
    yield
    from ray import serve

    serve.shutdown()


@pytest.fixture(scope="module")
def config(tiny_checkpoints, tmp_path_factory):
    memo = tmp_path_factory.mktemp("memo") / "memo.sqlite"
    return model_config("cascade", tiny_checkpoints["causal_lm"], memo_path=str(memo), actor_num_cpus=0.5)


@ray.remote(num_cpus=0)
class Caller:
    """Another actor that finds the reasoner by name."""

    def via_actor(self, name, requests):
        return ray.get(ray.get_actor(name).answer.remote(requests))

    def via_serve(self, app_name, requests):
        from ray import serve

        handle = serve.get_app_handle(app_name)
        responses = [handle.remote(r) for r in requests]  # sent together: Serve batches them
        return [response.result() for response in responses]


def test_named_actor_answers_other_actors_and_restarts(ray_session, config):
    handles = start_reasoner_actors(config, prefix="test-reasoner")
    assert ray.get(handles[0].reasoner_id.remote()).startswith("cascade-v1/")
    caller = Caller.remote()
    outcomes = ray.get(caller.via_actor.remote("test-reasoner-0", [request("a"), request("b", choices=[])]))
    assert outcomes[0].error is None and "at least 2 options" in outcomes[1].error
    ray.kill(reasoner_actors(1, prefix="test-reasoner")[0], no_restart=False)  # a crash: Ray restarts it
    again = answer_with_actors(handles, [request("a"), request("c", evidence=[pitch_result()])], batch_size=1)
    assert again[0].scores == outcomes[0].scores and again[1].error is None


def test_serve_deployment_batches_and_answers_from_another_actor(ray_session, config):
    from audiorouter.reasoner.serve import deploy_reasoner

    handle = deploy_reasoner(config, app_name="test-reasoner-app")
    assert handle.reasoner_id.remote().result().startswith("cascade-v1/")
    requests = [request(f"s{i}", evidence=[pitch_result()] if i % 2 else []) for i in range(6)]
    outcomes = ray.get(Caller.remote().via_serve.remote("test-reasoner-app", requests))
    assert [o.item_id for o in outcomes] == [r.item_id for r in requests]
    assert all(o.error is None and len(o.scores) == 4 for o in outcomes)
    # a caller's batch in one answer_many call: all six in one answer() call, in order
    before = handle.batches_seen.remote().result()
    together = handle.answer_many.remote(requests).result()
    after = handle.batches_seen.remote().result()
    assert [o.scores for o in together] == [o.scores for o in outcomes]
    assert sum(after.values()) == sum(before.values()) + 1 and after[6] == before.get(6, 0) + 1, (before, after)


def test_answer_hosted_through_serve_sends_a_callers_requests_in_full_batches(ray_session, config):
    """Ten requests with batches of 4: three answer_many calls (4, 4, 2), answered in
    order; no answer() call is left with a single request."""
    from dataclasses import replace

    from audiorouter.reasoner.hosting import answer_hosted, host_reasoner

    served = replace(config, hosting="serve", serve_max_batch_size=4)
    hosted = host_reasoner(served)
    try:
        requests = [request(f"h{i}", evidence=[pitch_result()] if i % 3 else []) for i in range(10)]
        outcomes = answer_hosted(served, requests)
        sizes = hosted.app.batches_seen.remote().result()
    finally:
        hosted.stop()
    assert [o.item_id for o in outcomes] == [r.item_id for r in requests]
    assert all(o.error is None for o in outcomes)
    assert sum(size * calls for size, calls in sizes.items()) == 10 and min(sizes) >= 2 and max(sizes) <= 4, sizes
