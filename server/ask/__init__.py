"""Answers about the codebase: chunk the workspace, retrieve the chunks that bear on a question,
ask the model, and cite the files and lines the answer rests on."""
