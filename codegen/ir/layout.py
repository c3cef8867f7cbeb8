"""How big APIs are laid out: resource classes into ``resources/`` modules, schemas into chunks.

A resources module holds a top-level resource and as much of its subtree as fits in the
budgets (methods, estimated characters: :func:`_estimated_method_size`); subtrees that do
not fit get modules of their own. Schemas go into one ``schemas.py`` unless they would exceed
the chunk size; then into a ``schemas/`` package of chunks that import each other's names.
"""

from __future__ import annotations

import dataclasses

from codegen import naming
from codegen.ir.constants import MAX_MODULE_NAME
from codegen.ir.nodes import MethodIR, ResourceIR, ResourceModule, SchemaClass, SchemaModule


def split(
    roots: list[ResourceIR],
    module_scope: naming.Scope,
    alias_scope: naming.Scope,
    method_budget: int,
    size_budget: int,
) -> tuple[list[ResourceModule], list[ResourceModule]]:
    """Place every resource class in a module: (top-level modules, further modules).

    A top-level resource's module takes its subtree depth first, each child's whole
    subtree while it fits in the budgets (methods, estimated characters); a child whose
    subtree does not fit starts a module of its own (named after its attribute path),
    split the same way.
    """
    budget = (method_budget, size_budget)
    sizes: dict[int, tuple[int, int]] = {}

    def own(resource: ResourceIR) -> tuple[int, int]:
        return len(resource.methods), sum(_estimated_method_size(method) for method in resource.methods)

    def size(resource: ResourceIR) -> tuple[int, int]:
        if id(resource) not in sizes:
            total = own(resource)
            for child in resource.children:
                total = _plus(total, size(child))
            sizes[id(resource)] = total
        return sizes[id(resource)]

    assignment: dict[int, str] = {}
    aliases: dict[str, str] = {}
    pending: list[tuple[ResourceIR, str, tuple[str, ...]]] = []  # sub-module roots, in order

    def place(resource: ResourceIR, module: str, used: tuple[int, int], path: tuple[str, ...]) -> tuple[int, int]:
        assignment[id(resource)] = module
        used = _plus(used, own(resource))
        for child in resource.children:
            child_path = (*path, child.attribute.rstrip("_"))
            total = _plus(used, size(child))
            if total[0] <= budget[0] and total[1] <= budget[1]:
                used = place(child, module, used, child_path)
            else:
                pending.append((child, "", child_path))
        return used

    top_names = [module_scope.allocate(root.attribute) for root in roots]
    for name in top_names:
        aliases[name] = alias_scope.allocate("_" + name)
    batch_aliases = {name: alias_scope.allocate(f"_{name}_batch") for name in top_names}
    for root, name in zip(roots, top_names, strict=True):
        place(root, name, (0, 0), (root.attribute.rstrip("_"),))
        while pending:
            child, _, path = pending.pop(0)
            preferred = "_".join(path)
            if len(preferred) > MAX_MODULE_NAME:
                preferred = f"{name[: MAX_MODULE_NAME // 2]}_part"
            sub = module_scope.allocate(naming.python_name(preferred, "part"))
            aliases[sub] = alias_scope.allocate("_" + sub)
            place(child, sub, (0, 0), path)

    def rebuild(resource: ResourceIR) -> ResourceIR:
        module = assignment[id(resource)]
        return dataclasses.replace(
            resource,
            children=tuple(rebuild(child) for child in resource.children),
            module=module,
            module_alias=aliases[module],
        )

    members: dict[str, list[ResourceIR]] = {}
    for root in roots:
        for resource in rebuild(root).walk():
            members.setdefault(resource.module, []).append(resource)
    modules = {name: ResourceModule(name, group[0], aliases[name], tuple(group)) for name, group in members.items()}
    top = [dataclasses.replace(modules[name], batch_alias=batch_aliases[name]) for name in top_names]
    rest = [module for name, module in sorted(modules.items()) if name not in top_names]
    return top, rest


def schema_chunks(schemas: tuple[SchemaClass, ...], limit: int) -> tuple[SchemaModule, ...]:
    """The chunks of a ``schemas/`` package, or ``()`` when one ``schemas.py`` is small enough."""
    sizes = [_estimated_size(schema) for schema in schemas]
    if sum(sizes) <= limit:
        return ()
    groups: list[list[SchemaClass]] = [[]]
    used = 0
    for schema, size in zip(schemas, sizes, strict=True):
        if groups[-1] and used + size > limit:
            groups.append([])
            used = 0
        groups[-1].append(schema)
        used += size
    width = len(str(len(groups) - 1))
    chunk_of = {schema.name: f"_{index:0{width}d}" for index, group in enumerate(groups) for schema in group}
    chunks = []
    for index, group in enumerate(groups):
        name = f"_{index:0{width}d}"
        needed: dict[str, set[str]] = {}
        for schema in group:
            types = [field.type_expr for field in schema.fields]
            if schema.alias is not None:
                types.append(schema.alias)
            for used_name in {name for t in types for name in t.local_names}:
                other = chunk_of.get(used_name)
                if other is not None and other != name:
                    needed.setdefault(other, set()).add(used_name)
        imports = tuple((other, tuple(sorted(names))) for other, names in sorted(needed.items()))
        chunks.append(SchemaModule(name, tuple(group), imports))
    return tuple(chunks)


def _plus(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return a[0] + b[0], a[1] + b[1]


def _estimated_method_size(method: MethodIR) -> int:
    """About how many characters ``method`` takes in a resources module (its spec, and its
    sync and async definitions with docstrings; measured over the bundled documents)."""
    docs = len(method.doc) + len(method.pages_doc) + len(method.all_doc)
    return 1500 + docs * 5 // 2 + 160 * len(method.params)


def _estimated_size(schema: SchemaClass) -> int:
    """About how many characters ``schema`` takes in a generated module."""
    size = 80 + len(schema.doc) + (len(schema.alias.annotation) if schema.alias is not None else 0)
    for field in schema.fields:
        key = repr(field.key)  # as the functional syntax spells it
        size += 16 + len(key) + len(field.type_expr.annotation) + sum(len(line) + 8 for line in field.comment)
    return size
