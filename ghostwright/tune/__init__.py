"""``ghostwright tune``: supervised fine-tuning (LoRA) on the user's own repository.

Optional: it needs the ``tune`` extra (torch and peft); nothing else imports this package.
"""
