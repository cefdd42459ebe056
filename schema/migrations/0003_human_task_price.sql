-- The one human-task price rule: what a vendor charges for one task of `kind` ('rate', 'review',
-- 'write') is its rate card's price for the kind, else the card's 'perTask' price, else 0. A key
-- that is absent or JSON null does not price the task (the next one is tried); 0 is a price.
--
-- Used by every path that prices a task: the gateway's batched statement
-- (workers/gateway-completions.ts), the gateway's one-by-one path (applyVendorEvent in
-- human-tasks/inbox.ts) and the fix loop's budget check (taskCostUsd in human-tasks/accounting.ts).
--
-- A rate card registered from a program spec always holds non-negative numbers for rate, review
-- and write (vendorSpecSchema in schema/program-spec.ts; it has no perTask, which zod strips), so
-- the fallbacks serve cards written otherwise (vendors.rate_card is free-form json). A card that
-- is not a JSON object, or a price that is not a non-negative JSON number (a string such as "0.5"
-- included), raises invalid_parameter_value naming the key, instead of charging a silent 0: the
-- event is not stored and the vendor retries after the card is fixed.
CREATE FUNCTION judgeflow_task_cost_usd(rate_card jsonb, kind text) RETURNS float8
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  price_key text;
  price jsonb;
BEGIN
  IF jsonb_typeof(rate_card) IS DISTINCT FROM 'object' THEN
    RAISE EXCEPTION 'rate card must be a JSON object, not %', coalesce(rate_card::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOREACH price_key IN ARRAY ARRAY[kind, 'perTask'] LOOP
    price := rate_card -> price_key;
    CONTINUE WHEN price IS NULL OR jsonb_typeof(price) = 'null';
    IF jsonb_typeof(price) <> 'number' THEN
      RAISE EXCEPTION 'rate card price "%" must be a non-negative JSON number, not %', price_key, price
        USING ERRCODE = 'invalid_parameter_value', DETAIL = format('rate card: %s', rate_card);
    END IF;
    IF price::numeric < 0 THEN
      RAISE EXCEPTION 'rate card price "%" must be a non-negative JSON number, not %', price_key, price
        USING ERRCODE = 'invalid_parameter_value', DETAIL = format('rate card: %s', rate_card);
    END IF;
    RETURN price::float8;
  END LOOP;
  RETURN 0;
END
$$;
