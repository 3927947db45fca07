"""The surface (WSDL or REST paths), credentials, and the catalogue (GetCenters, KeyEntities)."""

from __future__ import annotations

from zeep.xsd import builtins as xsd

from probe.guide import DATETIME_PARAMS, METHODS, Method
from probe.transport import Reply, WsdlError

BINARY = "DOWNLOAD_CONTENT"


class StopProbe(Exception):
    """Nothing more can be checked (the WSDL cannot be read)."""


class SurfaceChecks:
    # ------------------------------------------------------------------ the surface

    def surface(self) -> None:
        if self.options.surface == "soap":
            self.wsdl()
        else:
            self.rest_paths()

    def wsdl(self) -> None:
        try:
            self.target.load()
        except WsdlError as error:
            self.f.fail("WSDL-READ", str(error), self.target.wsdl_exchange)
            for rule in ("WSDL-OPERATIONS", "WSDL-PARAMS", "WSDL-FIELDS", "WSDL-TYPES", "WSDL-ORDER"):
                self.f.skip(rule, "the WSDL cannot be read")
            raise StopProbe from None
        self.f.ok("WSDL-READ")
        operations = self.target.operations
        folded = {name.lower(): name for name in operations}
        for method in METHODS:
            operation = operations.get(method.name)
            if operation is None:
                self.missing.add(method.name)
                other = folded.get(method.name.lower())
                reason = (
                    f"the operation is spelt {other!r}; tuOtempO calls {method.name!r}"
                    if other
                    else f"no operation {method.name} (guide {method.section})"
                )
                if method.optional and not other:
                    self.f.warn("WSDL-OPERATIONS", reason + ": medical results cannot be delivered")
                else:
                    self.f.fail("WSDL-OPERATIONS", reason, self.target.wsdl_exchange)
                continue
            self.f.ok("WSDL-OPERATIONS")
            self.wsdl_params(method, operation)
            self.wsdl_answer(method, operation)

    def wsdl_params(self, method: Method, operation) -> None:
        body = operation.input.body
        declared = dict(body.type.elements) if body is not None else {}
        wanted = method.params + (("CENTER_LID",) if method.takes_center else ())
        folded = {name.lower(): name for name in declared}
        for name in wanted:
            element = declared.get(name)
            if element is None:
                other = folded.get(name.lower())
                if other:
                    self.f.fail("WSDL-PARAMS", f"{method.name} declares {other!r}; the guide's name is {name!r}")
                elif name == "CENTER_LID":
                    self.f.warn("WSDL-PARAMS", f"{method.name} takes no CENTER_LID: one center only (guide B.3)")
                else:
                    self.f.fail("WSDL-PARAMS", f"{method.name} does not declare the parameter {name}")
                continue
            self.f.ok("WSDL-PARAMS")
            self.wsdl_type(method, name, element)

    def wsdl_answer(self, method: Method, operation) -> None:
        body = operation.output.body
        record, repeated = self.record_type(body)
        if record is None:
            self.f.fail("WSDL-FIELDS", f"{method.name}'s answer declares no record of fields")
            return
        if method.many and not repeated:
            self.f.fail("WSDL-FIELDS", f"{method.name}'s answer is declared as one record, not a list of records")
        elif not method.many and repeated:
            self.f.fail("WSDL-FIELDS", f"{method.name}'s answer is declared as a list; the guide has one record")
        declared = dict(record.elements)
        missing = [name for name in method.field_names if name not in declared]
        if missing:
            self.f.fail("WSDL-FIELDS", f"{method.name}'s answer does not declare {', '.join(missing)}")
        else:
            self.f.ok("WSDL-FIELDS")
        for name in method.field_names:
            if name in declared:
                self.wsdl_type(method, name, declared[name])
        order = [name for name in declared if name in method.field_names]
        expected = [name for name in method.field_names if name in declared]
        self.f.check(
            "WSDL-ORDER",
            order == expected,
            f"{method.name}'s answer declares {', '.join(order)}; the guide's order is {', '.join(expected)}",
        )

    @staticmethod
    def record_type(element):
        """The complex type holding an answer's fields, and whether it comes repeated: descends
        through the wrappers (Response, Result, the array type) to the first type with more than
        one element or a repeated one."""
        repeated = False
        current = element
        for _ in range(5):
            if current is None or not hasattr(current.type, "elements"):
                return None, repeated
            children = current.type.elements
            if len(children) != 1:
                return current.type, repeated
            _, child = children[0]
            if child.max_occurs == "unbounded" or (isinstance(child.max_occurs, int) and child.max_occurs > 1):
                repeated = True
                return (child.type if hasattr(child.type, "elements") else None), repeated
            if not hasattr(child.type, "elements") or not child.type.elements:
                return current.type, repeated  # a record of a single simple field
            current = child
        return None, repeated

    def wsdl_type(self, method: Method, name: str, element) -> None:
        kind = element.type
        if name == BINARY:
            ok, wanted = isinstance(kind, xsd.Base64Binary), "xs:base64Binary"
        elif name in DATETIME_PARAMS:
            ok, wanted = isinstance(kind, xsd.String | xsd.DateTime), "xs:string (or the guide's [datetime])"
        else:
            ok, wanted = isinstance(kind, xsd.String), "xs:string (the guide's nvarchar/nchar)"
        type_name = getattr(getattr(kind, "qname", None), "localname", None) or type(kind).__name__
        self.f.check("WSDL-TYPES", ok, f"{method.name} {name} is declared {type_name}; the guide wants {wanted}")

    def rest_paths(self) -> None:
        for method in METHODS:
            if method.write and self.options.read_only:
                continue
            reply = self.call(method.name, {})
            status = reply.exchange.status
            served = reply.exchange.error is None and status not in (404, 405) and not _not_json(reply)
            if served:
                self.f.ok("REST-PATHS")
                continue
            self.missing.add(method.name)
            reason = f"{reply.exchange.verb} /{method.rest_path}: {reply.describe()}"
            if method.optional and status == 404:
                self.f.warn("REST-PATHS", f"{reason}: medical results cannot be delivered", reply)
            else:
                self.f.fail("REST-PATHS", reason, reply)

    # ------------------------------------------------------------------ credentials

    def credentials(self) -> None:
        if not self.options.credentials:
            self.f.skip("AUTH-REQUIRED", "the probe was given no credentials")
            return
        reply = self.call("GetCenters", auth=False)
        if reply.exchange.status == 401:
            self.f.ok("AUTH-REQUIRED")
        elif reply.ok:
            self.f.fail("AUTH-REQUIRED", "GetCenters without credentials was answered with the centers", reply)
        else:
            self.f.fail("AUTH-REQUIRED", f"without credentials: {reply.describe()}, not HTTP 401", reply)

    # ------------------------------------------------------------------ catalogue

    def catalogue(self) -> None:
        centers = self.call("GetCenters")
        if not centers.ok:
            self.f.fail("GETCENTERS", f"GetCenters: {centers.describe()}", centers)
        else:
            problems = self.field_problems(centers)
            lids = [row.get("CENTER_LID") for row in centers.records()]
            if not lids:
                problems.append("no center is listed")
            doubles = sorted({lid for lid in lids if lid and lids.count(lid) > 1})
            if doubles:
                problems.append(f"CENTER_LID {', '.join(doubles)} listed more than once")
            if self.options.center and self.options.center not in lids:
                problems.append(f"CENTER_LID {self.options.center} (--center) is not listed")
            self.f.check("GETCENTERS", not problems, "; ".join(problems[:3]), centers)

        entities = self.call("KeyEntities")
        self.activities = []
        if not entities.ok:
            self.f.fail("KEYENTITIES-FIELDS", f"KeyEntities: {entities.describe()}", entities)
            return
        rows = entities.records()
        # Prices and durations belong to KEYENTITIES-PRICES.
        problems = [p for p in self.field_problems(entities) if "ACTIVITY_PRICE" not in p and "DURATION" not in p]
        if not rows:
            problems.append("KeyEntities lists no row: nothing can be offered online")
        self.f.check("KEYENTITIES-FIELDS", not problems, "; ".join(problems[:3]), entities)
        self.prices(entities)
        self.self_pay(entities)
        counts: dict[str, set] = {}
        for row in rows:
            if row.get("ACTIVITY_LID") and row.get("RESOURCE_LID"):
                counts.setdefault(row["ACTIVITY_LID"], set()).add(row["RESOURCE_LID"])
        # The activities offered by the most doctors first: the likeliest to have free slots.
        self.activities = sorted(counts, key=lambda a: (-len(counts[a]), a))

    def prices(self, entities: Reply) -> None:
        problems, unpriced = [], 0
        for i, row in enumerate(entities.records(), 1):
            duration, price = row.get("ACTIVITY_DURATION"), row.get("ACTIVITY_PRICE")
            if duration in (None, ""):
                problems.append(f"row {i} ({_pair(row)}) has no ACTIVITY_DURATION")
            elif not str(duration).strip().isdigit() or int(str(duration).strip()) <= 0:
                problems.append(f"row {i} ({_pair(row)}): ACTIVITY_DURATION {duration!r} is not whole minutes")
            if price in (None, ""):
                unpriced += 1
            elif not _decimal(price):
                problems.append(f"row {i} ({_pair(row)}): ACTIVITY_PRICE {price!r} is not a number")
        if problems:
            self.f.fail("KEYENTITIES-PRICES", "; ".join(problems[:3]), entities)
        elif unpriced:
            self.f.warn("KEYENTITIES-PRICES", f"{unpriced} rows have no ACTIVITY_PRICE", entities)
        else:
            self.f.ok("KEYENTITIES-PRICES")

    def self_pay(self, entities: Reply) -> None:
        seen: dict[tuple, int] = {}
        pairs: set[tuple] = set()
        self_paid: set[tuple] = set()
        for row in entities.records():
            pair = (row.get("RESOURCE_LID"), row.get("ACTIVITY_LID"))
            insurance = row.get("INSURANCE_LID") or None
            pairs.add(pair)
            if insurance is None:
                self_paid.add(pair)
            seen[pair + (insurance,)] = seen.get(pair + (insurance,), 0) + 1
        problems = [
            f"{r} / {a} has no self-pay row (empty INSURANCE_LID)" for r, a in sorted(pairs - self_paid, key=str)
        ]
        problems += [
            f"{key[0]} / {key[1]} / {key[2] or 'self-pay'} is listed {n} times" for key, n in seen.items() if n > 1
        ]
        self.f.check("KEYENTITIES-SELF-PAY", not problems, "; ".join(problems[:3]), entities)


def _pair(row: dict) -> str:
    return f"{row.get('RESOURCE_LID')} / {row.get('ACTIVITY_LID')} / {row.get('INSURANCE_LID') or 'self-pay'}"


def _decimal(value) -> bool:
    try:
        float(str(value).replace(",", "."))
    except ValueError:
        return False
    return True


def _not_json(reply: Reply) -> bool:
    return any("not a JSON object" in p for p in reply.envelope_problems)
