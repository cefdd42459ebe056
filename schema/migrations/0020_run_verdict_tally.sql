CREATE TABLE "run_verdict_tally" (
	"run_id" text NOT NULL,
	"criterion" text NOT NULL,
	"pass" bigint DEFAULT 0 NOT NULL,
	"fail" bigint DEFAULT 0 NOT NULL,
	"error" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "run_verdict_tally_run_id_criterion_pk" PRIMARY KEY("run_id","criterion")
);
