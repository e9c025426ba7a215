"""Production refuses the published demo secrets of the sandbox providers; a provider without a secret is off."""
import os
import subprocess
import sys

from egov import config


def test_demo_or_short_payment_secrets_are_refused_and_an_unset_one_turns_the_provider_off():
    assert config.payment_problems({"gateway": "", "bank": ""}) == []
    problems = config.payment_problems({"gateway": config.DEMO_PAYMENT_GATEWAY_SECRET, "bank": "short"})
    assert [p.split(":")[0] for p in problems] == ["EGOV_PAYMENT_GATEWAY_SECRET", "EGOV_PAYMENT_BANK_SECRET"]
    assert config.payment_problems({"gateway": "x" * 40, "bank": ""}) == []


def test_the_sandbox_is_refused_in_production():
    result = subprocess.run([sys.executable, "-m", "egov.cli", "sandbox-pay"], capture_output=True, text=True,
                            env=dict(os.environ, EGOV_ENV="production"), timeout=60)
    assert result.returncode == 2 and "refused with EGOV_ENV=production" in result.stderr
