"""The local AWS: moto's server on 127.0.0.1, as strict as AWS where these resources depend on it
(moto_launcher), started and stopped as a child process (server), the things a routes.yaml expects to exist
already (account), and `local up|down|status`: one stack deployed into it with real Terraform (deploy).

Users run it (`cloudmap-routes local up`, the `local` extra installs moto), and so do the tests. Nothing here
talks to anything but 127.0.0.1.
"""
