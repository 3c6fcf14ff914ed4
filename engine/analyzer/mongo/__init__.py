"""MongoDB analysis, beside SQL's: the same findings, plan reports and advice for mongosh text.

- :mod:`.explain` — reads the server's ``explain`` output (``read_explain``), its findings
  (MG001–MG004), index suggestions by the equality → sort → range rule (``suggest_index``) and
  live advice from the text and catalog alone (``static_findings``, MG000 and MG005–MG008).
- :mod:`.report` — those in the analyzer's shapes: ``analysis`` (live), ``explain`` (a
  :class:`engine.analyzer.plan.PlanReport`), ``advise`` (an :class:`engine.analyzer.advisor.Advice`)
  and ``plan_result`` (the grid a typed ``.explain()`` shows).

The driver only runs the explain command and returns its reply; everything that reads it is here.
"""
