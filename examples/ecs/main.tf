# The ECS side of examples/ecs.yaml: a cluster, a Fargate task definition and an ECS service whose tasks ECS
# registers in the Cloud Map service the routes stack created. Everything it needs of that stack comes from one
# output, service_raft_registry (registry_arn, container_name, container_port), read from the stack's state.
#
#   .venv/bin/python main.py synth examples/ecs.yaml      # then apply cdktf.out/stacks/routes (state: ./terraform.routes.tfstate)
#   terraform -chdir=examples/ecs init && terraform -chdir=examples/ecs apply \
#     -var 'subnet_ids=["subnet-..."]' -var 'security_group_ids=["sg-..."]'

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "eu-west-1" # examples/ecs.yaml's region: ECS and Cloud Map must be in one Region
}

variable "routes_state" {
  description = "The routes stack's local state (synth puts it beside cdktf.out: ../../terraform.routes.tfstate from here)."
  type        = string
  default     = "../../terraform.routes.tfstate"
}

variable "subnet_ids" {
  description = "Private subnets for the tasks (the VPC link's, or others its security group can reach)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the tasks: they must admit the VPC link's security group on container_port."
  type        = list(string)
}

variable "image" {
  type    = string
  default = "public.ecr.aws/docker/library/nginx:stable"
}

data "terraform_remote_state" "routes" {
  backend = "local"
  config  = { path = var.routes_state }
}

locals {
  # { registry_arn, container_name, container_port }: see the output's description in cdk.tf.json
  registry = data.terraform_remote_state.routes.outputs.service_raft_registry
}

resource "aws_ecs_cluster" "raft" {
  name = "raft"
}

resource "aws_ecs_task_definition" "raft" {
  family                   = "raft"
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  cpu                      = "256"
  memory                   = "512"
  container_definitions = jsonencode([{
    name         = local.registry.container_name
    image        = var.image
    essential    = true
    portMappings = [{ containerPort = local.registry.container_port, protocol = "tcp" }]
  }])
}

resource "aws_ecs_service" "raft" {
  name            = "raft"
  cluster         = aws_ecs_cluster.raft.id
  task_definition = aws_ecs_task_definition.raft.arn
  desired_count   = 3
  launch_type     = "FARGATE"

  network_configuration {
    subnets         = var.subnet_ids
    security_groups = var.security_group_ids
  }

  # ECS sets this only when it creates the service: a new Cloud Map service (a replacement in the routes stack)
  # means recreating this ECS service too (`diff` says so).
  service_registries {
    registry_arn   = local.registry.registry_arn
    container_name = local.registry.container_name
    container_port = local.registry.container_port
  }
}

output "ecs_service_arn" {
  value = aws_ecs_service.raft.id
}
