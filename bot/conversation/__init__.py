"""One inbound text from webhook to answer: record, guard, enqueue, process, escalate, reply."""
