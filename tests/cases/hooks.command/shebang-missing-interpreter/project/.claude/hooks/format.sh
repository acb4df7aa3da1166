#!/usr/bin/env preflight-no-such-shell
echo formatted
