"""The Docker-free local Lambda runtime: worker processes, pools, the HTTP gateway."""
