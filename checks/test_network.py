"""API and network: credentials, key validity, latency by phase, CA certificates and TLS, streaming, timeouts.

The network checks share one survey of the base URL, run concurrently: the family costs about one timeout.
"""

from claude_preflight.checking import check
from claude_preflight.probes import macos, network
from claude_preflight.rules.network import (
    evaluate_ca,
    evaluate_credentials,
    evaluate_key,
    evaluate_latency,
    evaluate_stream,
    evaluate_timeouts,
    evaluate_tls,
)


@check("network.credentials")
def test_credentials(env, policy):
    credential = network.credentials(env, policy.probe_timeout_s, policy.config_max_bytes)
    return evaluate_credentials(credential, env.now() * 1000, policy)


@check("network.api-key")
def test_api_key(env, policy):
    return evaluate_key(network.survey(env, policy))


@check("network.latency")
def test_latency(env, policy):
    return evaluate_latency(network.survey(env, policy), policy)


@check("network.ca-certs")
def test_ca_certs(env, policy):
    return evaluate_ca(network.ca_file(env, policy.config_max_bytes), env.platform)


@check("network.tls")
def test_tls(env, policy):
    survey = network.survey(env, policy)
    # On a Mac Claude Code trusts the Keychain too: a corporate CA installed there is not a failure.
    keychain = macos.keychain_ca_subjects(env, policy.probe_timeout_s) if env.platform == "darwin" else None
    return evaluate_tls(survey, network.ca_file(env, policy.config_max_bytes), keychain)


@check("network.streaming")
def test_streaming(env, policy):
    if not policy.live:  # decided before any request: without --live nothing is sent for this check
        return evaluate_stream(None, policy)
    return evaluate_stream(network.survey(env, policy), policy)


@check("network.timeouts")
def test_timeouts(env, policy):
    return evaluate_timeouts(network.timeouts(env))
