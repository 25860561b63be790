-- What an evidence item says about the control or treatment it supports: `pass` (the
-- test or check succeeded), `fail`, or NULL for evidence that records without judging
-- (a policy document, a design review). Control effectiveness is computed from these.
ALTER TABLE evidence ADD COLUMN outcome TEXT CHECK (outcome IN ('pass', 'fail'));
