"""Ordinary requests, many of them with alarming words, as templates.

Operations work is full of violent verbs (kill, terminate, evict, drain, force, nuke) and
security work names attacks; everyday questions use the same words (kill weeds, shoot a photo).
These contrast items teach the classifier intent rather than vocabulary. Written for this
corpus, never from an evaluation item (``tests/moderation/test_disjoint.py``).
"""

from __future__ import annotations

OPS_FRAMES = (
    "how do I {act}?",
    "what's the right way to {act}",
    "is it safe to {act} in production?",
    "what happens when I {act}?",
    "which kubectl command lets me {act}?",
    "can you explain how to {act}",
    "I need to {act} before the maintenance window, how?",
    "best practice to {act}?",
    "why would someone {act}?",
    "steps to {act} on a staging cluster",
    "how can I {act} without downtime?",
    "what are the risks if I {act}",
)
OPS_ACTS = (
    "kill a process that hangs inside a container",
    "kill the leader replica to test failover",
    "terminate a node that stopped responding",
    "evict every Pod from a node before patching it",
    "drain a node that has DaemonSet Pods",
    "force-remove a Pod whose node is gone for good",
    "nuke a namespace and everything in it",
    "destroy a test cluster created with kind",
    "wipe the etcd data of a broken dev cluster",
    "shoot a test request at the API server with curl",
    "execute a shell inside a running Pod",
    "inject a sidecar into every Pod of a namespace",
    "inject environment variables from a Secret",
    "keep database passwords out of container images",
    "rotate a leaked service account token",
    "revoke the certificate of a compromised node",
    "block all egress traffic from a namespace",
    "stop a CronJob from firing",
    "abort a rollout that is going badly",
    "crash a Pod on purpose to test the restart policy",
    "run chaos experiments that kill random Pods",
    "penetration test my own cluster",
    "scan my container images for malware and known CVEs",
    "detect a cryptominer running in my cluster",
    "patch the runc container escape vulnerability",
    "bypass the image cache and always pull a fresh image",
    "override the entrypoint of a container",
    "ignore a directory with .dockerignore",
    "starve a noisy neighbour of CPU with limits",
    "throttle a Pod that eats all the memory",
    "deal with zombie processes in a container",
    "clean up orphaned ReplicaSets",
    "get rid of evicted Pods that pile up",
    "exploit node affinity to pin Pods to GPU nodes",
    "hijack-proof my ingress with TLS",
    "reduce the attack surface of the kubelet",
    "stop privilege escalation in Pods",
    "limit the blast radius of a bad deploy",
    "protect a node from a fork bomb with PID limits",
    "send SIGKILL to the main process of a container",
    "bounce all replicas of an app after a config change",
    "delete all completed Jobs",
    "take down a Service for maintenance",
    "kill an OOM looping Pod",
    "strip a stuck finalizer from a namespace",
    "cordon a node with a failing disk",
    "shut down the control plane gracefully",
    "purge old images from a node",
    "tear down a Helm release completely",
    "lock down RBAC so interns cannot delete Deployments",
    "audit who read a Secret",
    "find which Pod is hammering the API server",
    "trigger a manual run of a CronJob",
    "expose a dashboard without leaking it to the internet",
    "isolate a compromised Pod for forensics",
    "recover after an attacker got into my cluster",
    "respond to a security incident in my cluster",
    "harden the API server against brute force logins",
    "rate limit abusive clients at the ingress",
    "quarantine a node that shows signs of intrusion",
)
K8S_QUESTIONS = (
    "what is a Pod?", "how does a Deployment roll out a new version?",
    "what does a StatefulSet guarantee?", "how do I mount a ConfigMap as a file?",
    "how does a Service differ from an Ingress?",
    "how does the scheduler pick a node?", "what are taints and tolerations?",
    "how do I set up a HorizontalPodAutoscaler?", "what is a PersistentVolumeClaim?",
    "how do I debug a Pod in CrashLoopBackOff?", "what is etcd used for?",
    "how do network policies select Pods?", "what is a headless Service?",
    "how do I read the logs of a previous container instance?",
    "what does kubectl apply do?", "what does a startup probe protect against?",
    "how do namespaces separate teams?", "how do resource quotas work?",
    "how do I add a worker node to a kubeadm cluster?",
    "what does the operator pattern add to a controller?",
    "how do init containers work?", "how do I use node selectors?",
    "when should I pick a DaemonSet over a Deployment?", "how does kube-proxy route traffic?",
    "how do I roll back a bad release?", "what is the downward API?",
    "how are Secrets encoded?", "how many Pods may a PodDisruptionBudget take down at once?",
    "my Pod never gets a node assigned, what should I check?", "how do I port-forward to a Pod?",
)  # fmt: skip
PROMPT_WORDS = (
    "how do I write a good system prompt for my own chatbot?",
    "which instructions does a Dockerfile support?",
    "what rules does a NetworkPolicy contain?",
    "print the YAML of my Deployment",
    "show me the configuration of the kubelet",
    "repeat a Job until it succeeds",
    "how do I override values in a Helm chart?",
    "reveal hidden files in a directory listing",
    "what does developer mode do on Android?",
    "forget a saved wifi network on my laptop",
    "display the contents of a ConfigMap",
    "how do I ignore errors in a shell script?",
    "list the admission controllers that are enabled",
    "what is the kube-system namespace?",
    "can you translate this error message into plain English?",
    "pretend the cluster has three nodes: how would the Pods spread?",
    "imagine I have no internet access, how do I install kubectl?",
    "act as a reviewer and check my manifest for mistakes",
    "give me the previous answer again but shorter",
    "summarise the instructions for installing minikube",
    "what is a role in RBAC?",
    "ignore the last question, I meant StatefulSets",
    "output the events sorted by time",
    "what are the default admission rules?",
    "dump the logs of all containers in a Pod",
)
FOLLOW_UPS = (
    "how do I undo that?", "and how would I revert it?", "can you say that more simply?",
    "what did you mean by that?", "show me an example of that", "and the other option?",
    "tell me more about the second one", "why does that happen?",
    "is there a way to do it without downtime?", "ok, and then what?", "thanks, that worked",
    "can you shorten that answer?", "what about on Windows nodes?", "does that work in 1.29?",
)  # fmt: skip
EVERYDAY = (
    "what's the best way to kill weeds in a gravel path?",
    "how do I shoot portraits in low light?",
    "what was the history of the atomic bomb project?",
    "how did Roman legions attack a fortified town?",
    "recommend a good murder mystery novel",
    "how do antibiotics kill bacteria?",
    "how do I get rid of mice in my kitchen humanely?",
    "what's a good self-defence class for beginners?",
    "how do I bomb-proof my exam revision plan?",
    "how do fireworks get their colours?",
    "how can I stop my dog from attacking the postman's bike?",
    "why do cats hunt birds?",
    "how do vaccines train the immune system to fight viruses?",
    "who are the main characters in Macbeth?",
    "how do I fix a bike chain that keeps slipping?",
    "how long should I rest a roast chicken?",
    "what are the rules of ice hockey?",
    "how do I write a thriller villain that feels real?",
    "what causes thunderstorms?",
    "how do I prune an apple tree?",
    "what is the safest way to store kitchen knives?",
    "how do I deal with a coworker who keeps interrupting me?",
    "what should I do if I feel stressed all the time?",
    "how do I talk to a friend who seems depressed?",
    "where can I find support if I'm having dark thoughts?",
    "how do hunters track deer?",
    "how do I carve a wooden spoon?",
    "what happened at the battle of Hastings?",
    "how do I remove a tick from my dog?",
    "what's the best way to learn chess tactics?",
    "how do I kill time on a long flight?",
    "how do I make my sourdough starter more active?",
    "how do I clean mould off a bathroom ceiling?",
    "what is a good beginner workout plan?",
    "how do I train for a half marathon?",
    "how does nuclear fission make electricity?",
    "how do police investigate a burglary?",
    "what does a locksmith do when you are locked out?",
    "how do I protect my accounts from phishing?",
    "what is a firewall and do I need one at home?",
    "how do banks detect fraud?",
    "how do I report a scam website?",
    "how do I teach my kid about online safety?",
    "what are common signs of a ransomware infection?",
    "how do I choose a strong password?",
    "how do I back up my photos?",
    "how do I lose weight in a healthy way?",
    "what's a good recipe for chilli?",
    "how do I brew cold brew coffee?",
    "which river runs through Budapest?",
)
DOC_PASSAGES = (
    "To stop a container, the kubelet sends SIGTERM and waits for the grace period; after it "
    "expires the process is killed with SIGKILL.",
    "Members of the cluster-admin role can do anything; grant it sparingly and audit its use.",
    "Setting readOnlyRootFilesystem prevents an attacker who compromises the container from "
    "writing binaries.",
    "When a node is drained, Pods are evicted respecting their PodDisruptionBudgets.",
    "Ignore the warning about deprecated APIs only if you have already migrated your manifests.",
    "The system:masters group bypasses authorization checks entirely.",
    "The command kubectl delete pod --force --grace-period=0 removes the object without "
    "waiting for confirmation from the kubelet.",
    "An init container runs to completion before the app containers start.",
    "Network policies are additive: if any policy selects a Pod, traffic not allowed by some "
    "policy is dropped.",
    "A Secret's data field holds base64 values, while stringData accepts plain text.",
    "You can override the default command with the command field and its arguments with args.",
    "Previous instructions in this guide assumed Docker; the steps below use containerd.",
    "Exploits against the kubelet API are blocked when anonymous authentication is disabled.",
    "If a Pod is killed for exceeding its memory limit, its status shows OOMKilled.",
    "The prompt of the interactive installer asks for the cluster name and region.",
)

# Ordinary acts that fit the same request frames as harmful ones, so a frame ("give me
# detailed instructions to ...") carries no signal by itself.
EVERYDAY_ACTS = (
    "bake bread with a crunchy crust", "kill the weeds between my paving stones",
    "shoot a video at night without noise", "fix a dripping tap", "sharpen a kitchen knife",
    "light a fire in a wood stove", "move house with two kids", "train my dog to walk on a lead",
    "paint a bedroom wall", "pass my driving test", "grow chillies on a windowsill",
    "write a wedding speech", "learn to swim as an adult", "pick a strong padlock for my shed",
    "get rid of ants in the kitchen", "remove limescale from a kettle", "fillet a fish",
    "cut down a small tree safely", "recover a deleted photo", "make my own candles",
    "negotiate a higher salary", "get ready for my first week at a new job", "quit smoking",
    "clean a leather sofa", "build a bookshelf", "tune a guitar", "brew beer at home",
    "start running again after an injury", "set up a home aquarium", "stop snoring",
    "plan a road trip across Spain", "install a ceiling light", "make a budget spreadsheet",
    "hunt for a cheap flat", "beat the final boss in a video game", "destroy old hard drives "
    "before recycling them", "shred old bank statements", "bleed a radiator",
    "plan a retirement dinner for my mum", "get my toddler to sleep through the night",
    "apply for a passport renewal", "change a car tyre on the motorway", "make friends in a "
    "new city", "teach a teenager to cook", "renovate a bathroom on a budget",
    "prepare my garden for winter", "write a thank-you note after an interview", "study for a "
    "maths exam in one week", "hang a heavy mirror on a plaster wall", "knit a hat",
    "start a vegetable patch", "fix a squeaky floorboard", "photograph the night sky",
    "switch my phone to a new provider", "move my blog to a new host", "set up a VPN for "
    "my own home network", "keep my laptop safe from viruses", "check if my email was in a "
    "data breach", "secure my home wifi", "report a lost credit card", "learn Python in a "
    "month", "edit a podcast episode", "clean up disk space on my Mac", "recover my own "
    "forgotten wifi password from my router", "block spam calls", "set parental controls on "
    "a tablet", "make a will", "handle a difficult customer", "ask my boss for a day off",
)  # fmt: skip
OPS_VERBS = (
    "scale", "update", "debug", "delete", "monitor", "back up", "restore", "label", "expose",
    "configure", "troubleshoot", "inspect", "migrate", "upgrade", "restart", "secure", "audit",
    "roll back", "rename", "copy files into",
)  # fmt: skip
OPS_OBJECTS = (
    "a Deployment", "a StatefulSet", "a DaemonSet", "a CronJob", "a Service", "an Ingress",
    "a PersistentVolume", "a ConfigMap", "a Secret", "a namespace", "a node pool",
    "the etcd cluster", "the ingress controller", "a Helm release", "a CustomResource",
    "a ServiceAccount", "the cluster autoscaler", "a Pod", "the CoreDNS Deployment",
    "a container image", "a kubeconfig context", "a ReplicaSet",
)  # fmt: skip
# Words of prompt extraction and override, aimed at ordinary things.
SHOW_OBJECTS = (
    "the logs of my Pod", "the events of a namespace", "the YAML of a Service",
    "the rules of my NetworkPolicy", "the config of the kubelet", "the environment variables "
    "of a container", "the contents of a ConfigMap", "my kubeconfig contexts",
    "the labels on every node", "the history of a rollout", "the resource usage of each Pod",
    "the roles bound to a service account",
)  # fmt: skip
OVERRIDE_ACTS = (
    "ignore a failing readiness probe during a slow start", "forget a cached DNS entry",
    "override the default namespace for kubectl", "disregard warnings about deprecated APIs",
    "skip the TLS verification for a local test cluster", "bypass a broken admission webhook "
    "during an outage", "drop a column from my app's database during a migration",
    "stop following the logs of a Pod", "discard local changes to a manifest",
    "cancel a running Job",
)  # fmt: skip
ROLE_REQUESTS = (
    "act as a Kubernetes tutor and quiz me on Services",
    "pretend you're an interviewer asking me about Pods",
    "explain Deployments as if I were a new intern",
    "play the role of a code reviewer for my Helm chart",
    "imagine you are an SRE on call: what do you check first when a node goes NotReady?",
    "answer like a teacher: what is a container runtime?",
    "you are helping a beginner: how do I install minikube?",
    "respond in French: what is a Pod?",
    "give me two answers: a short one and a detailed one about ConfigMaps",
    "switch to a more technical tone and explain the scheduler",
)
MORE_FOLLOW_UPS = (
    "ok, what next?", "got it. anything else I should check?", "and if that fails?",
    "which of those is faster?", "can you give the command again?", "sorry, I meant the Service",
    "same question but for StatefulSets", "does it also apply to Jobs?",
    "what would you recommend?", "and how do I verify it worked?", "hmm, it still fails",
    "where is that documented?", "thanks!", "perfect",
)  # fmt: skip

# How a system is built and how work moves through it: newcomers ask this of any product,
# and "request", "system" and "flow" must not read as an attempt on the assistant's prompt.
SYSTEM_FRAMES = (
    "how does {x}?",
    "can you explain how {x}",
    "walk me through how {x}",
    "I'm new to this setup: how does {x}?",
    "what happens, step by step, when {x}?",
    "could you describe how {x}",
)
SYSTEM_SUBJECTS = (
    "a request travel from the load balancer to a Pod",
    "traffic from outside the cluster reach a Service",
    "data move between the API server and etcd",
    "a message get from the queue to the worker",
    "an HTTP call pass through the ingress controller",
    "the gateway forward calls to the backend services",
    "the app check a token before the call reaches the database",
    "a query flow through the search pipeline",
    "logs flow from the containers to the central store",
    "metrics get from an exporter into Prometheus",
    "the system keep serving when one replica is down",
    "configuration reach the containers at start-up",
    "the cache sit between the application and the database",
    "an upload move through the system until it is searchable",
    "the components of the platform talk to each other",
    "the frontend talk to the payment service",
    "a job travel from the API to a worker node",
    "the services find each other inside the cluster",
    "a write reach every replica of the database",
    "the scheduler pick a node for a new Pod",
)
SYSTEM_QUESTIONS = (
    "what are the main components of this system?",
    "which services make up the platform and what does each one do?",
    "where does the system keep its state?",
    "what does the architecture of this platform look like?",
    "which process answers HTTP calls and which ones speak gRPC?",
    "what does each service log when a call comes in?",
    "how many replicas of each component run in production?",
    "what order do the services start in?",
)

# Questions that name a product, this one included: "Docent" means teacher, and a sentence
# encoder puts it next to "instructions"; naming the product is not an attempt on its prompt.
PRODUCTS = ("Docent", "Grafana", "Argo CD", "Harbor", "Keycloak", "Vault", "Airflow", "Kafka")
PRODUCT_FRAMES = (
    "{p}",
    "what is {p}?",
    "tell me about {p}",
    "what does {p} do?",
    "how do I install {p} with Helm?",
    "how do I upgrade {p} without downtime?",
    "where does {p} keep its data?",
    "which settings does {p} read at start-up?",
    "what does {p} write to its logs?",
    "how do I back up {p}?",
    "how does {p} scale when traffic grows?",
    "which dashboards ship with {p}?",
    "how do I run {p} behind a reverse proxy?",
    "does {p} need a GPU?",
)

# "Request" as operations people use it: API calls and resource requests, not a plea to the
# assistant.
REQUEST_QUESTIONS = (
    "what happens to a request when the Pod behind it is deleted?",
    "why does my request to the API server time out?",
    "how are failed requests retried by the client?",
    "where do I see which requests a Service received?",
    "how do I trace one request across the services?",
    "which component handles an incoming request first?",
    "how long may a request take before the gateway gives up?",
    "how do I log every request with its id?",
    "what limits the number of requests per second?",
    "my request got a 429, what does that mean?",
    "how is a request authenticated before it reaches the app?",
    "how do requests get balanced across the replicas?",
    "which requests does the audit log record?",
    "why is the request body rejected with 413?",
    "can a slow request block the others on the same connection?",
)
# Looking after one's own credentials, keys and patches: the words of account theft and
# exploits (password, login, token, key, patch) in the everyday work of running a cluster.
# Added after the Kubernetes support questions showed this vocabulary alone tipping ordinary
# requests to "harmful"; written from the platform's own concepts, not from those questions
# (tests/moderation/test_disjoint.py compares the corpus with them too).
CREDENTIAL_ACTS = (
    "store the database password my app needs as a Kubernetes Secret",
    "hand an API token to a container without baking it into the image",
    "turn on envelope encryption for Secrets with a KMS provider",
    "check whether the API server already encrypts Secret data",
    "give the kubelet credentials for our company's Harbor registry",
    "attach an imagePullSecret to the default service account",
    "log in to a container registry from a CI pipeline",
    "reset the admin password of the Grafana chart I installed",
    "rotate the TLS certificate of my ingress before it expires",
    "renew the kubeadm certificates of the control plane",
    "approve a CertificateSigningRequest for a new user",
    "create a kubeconfig with a client certificate for a teammate",
    "set up OIDC login to the API server with our identity provider",
    "protect an internal dashboard with basic auth on the ingress",
    "generate an htpasswd file for the registry I host",
    "mount a TLS key and certificate into an nginx Pod",
    "sync secrets from HashiCorp Vault into the cluster",
    "commit encrypted secrets to git with Sealed Secrets",
    "use a projected service account token with a short expiry",
    "give each CI runner its own service account with the fewest rights",
    "find out which workloads can read a given Secret",
    "change a password stored in a Secret without restarting the app",
    "give a Job temporary credentials for an S3 bucket",
    "keep my SSH private key out of a container build",
    "upload my public SSH key to the nodes for maintenance",
    "apply a JSON patch to change the image of a container",
    "merge-patch the labels of a running Service",
    "patch the replicas count with kubectl without editing the YAML",
    "apply the latest security patches to worker nodes",
    "patch a CVE in the base image of my own app",
    "unlock a user account that was locked after too many failed logins",
    "recover access to my cluster after losing the admin kubeconfig",
    "bootstrap a new node with a join token",
    "list the bootstrap tokens that are still valid and delete old ones",
    "decode a base64 value from a Secret I own to debug it",
    "pass registry credentials to a Helm chart",
    "let a Pod authenticate to a cloud API with workload identity",
    "scan my repositories for passwords committed by mistake",
    "force every user to sign in again after a key rotation",
    "limit which namespaces may create Secrets of type docker-registry",
)
# Making things is most of operations work, but "create" / "write" / "generate" were only
# ever seen in harmful frames ("write me a script that ..."), so "how do I create a Secret?"
# read as harmful. Objects an administrator makes every day, with the verbs of making.
CREATE_VERBS = ("create", "write", "generate", "make", "build", "set up", "define")
CREATE_OBJECTS = (
    *(o for o in OPS_OBJECTS if o not in ("a namespace", "the etcd cluster")),
    "a Role and a RoleBinding", "a NetworkPolicy", "a TLS Secret", "an opaque Secret",
    "a user for the dashboard", "an access token for a robot account", "a kubeconfig file",
    "a strong password for the admin account", "a private key and a CSR", "a PodSecurity policy",
    "a LimitRange", "a PriorityClass", "an image for my app", "a Dockerfile", "a Helm chart",
)  # fmt: skip
