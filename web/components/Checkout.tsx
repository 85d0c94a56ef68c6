"use client";
// Card payment the way Stripe.js does it: the card becomes a PaymentMethod (publishable
// key), then the PaymentIntent is confirmed with its client_secret. The API enrolls the
// student when Stripe's signed webhook arrives; this waits for that.
import { useState } from "react";
import { api, formatPrice, type PaymentStarted } from "@/lib/api";
import { ErrorBox, Field } from "@/components/ui";

type SiteConfig = { stripe_api: string; stripe_publishable_key: string };

async function stripe(config: SiteConfig, path: string, fields: Record<string, string>) {
  const body = new URLSearchParams({ ...fields, key: config.stripe_publishable_key });
  const resp = await fetch(`${config.stripe_api}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok || data.error) {
    throw new Error(data.error?.message ?? `The payment provider answered ${resp.status}.`);
  }
  return data;
}

export function Checkout({ courseId, payment, onEnrolled }: {
  courseId: string; payment: PaymentStarted; onEnrolled: () => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const [stage, setStage] = useState<"form" | "paying" | "waiting">("form");

  return (
    <form
      className="card mt-4 max-w-md"
      aria-label="Payment"
      onSubmit={async (e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        const [month, year] = String(form.get("expiry")).split("/").map((p) => p.trim());
        setError(null);
        setStage("paying");
        try {
          const config = (await (await fetch("/site-config.json")).json()) as SiteConfig;
          const method = await stripe(config, "/v1/payment_methods", {
            type: "card",
            "card[number]": String(form.get("card")).replace(/\s+/g, ""),
            "card[exp_month]": month ?? "",
            "card[exp_year]": year ? `20${year.slice(-2)}` : "",
            "card[cvc]": String(form.get("cvc")),
          });
          const intent = payment.client_secret.split("_secret_")[0];
          const confirmed = await stripe(config, `/v1/payment_intents/${intent}/confirm`, {
            payment_method: method.id,
            client_secret: payment.client_secret,
          });
          if (confirmed.status !== "succeeded") {
            throw new Error(confirmed.last_payment_error?.message ?? "The card was declined.");
          }
          setStage("waiting");
          for (let i = 0; i < 60; i += 1) { // the webhook usually lands within a second or two
            try {
              await api(`/courses/${encodeURIComponent(courseId)}/progress`);
              onEnrolled();
              return;
            } catch {
              await new Promise((r) => setTimeout(r, 1000));
            }
          }
          throw new Error("Payment received; enrollment is taking longer than usual. Reload in a minute.");
        } catch (err) {
          setError(err);
          setStage("form");
        }
      }}
    >
      <h2 className="mb-2">Pay {formatPrice(payment.price)}</h2>
      <p className="mb-3 text-sm text-slate-600">
        Test mode: use card 4242 4242 4242 4242 (4000 0000 0000 0002 is declined).
      </p>
      <Field id="card" label="Card number" inputMode="numeric" autoComplete="cc-number"
             defaultValue="4242 4242 4242 4242" required />
      <div className="grid grid-cols-2 gap-3">
        <Field id="expiry" label="Expiry (MM/YY)" autoComplete="cc-exp" defaultValue="12/30"
               pattern="\d{1,2}\s*/\s*\d{2,4}" required />
        <Field id="cvc" label="CVC" inputMode="numeric" autoComplete="cc-csc" defaultValue="123" required />
      </div>
      <ErrorBox error={error} />
      <button type="submit" className="btn w-full" disabled={stage !== "form"}>
        {stage === "form" ? `Pay ${formatPrice(payment.price)}` : stage === "paying" ? "Paying…" : "Enrolling…"}
      </button>
    </form>
  );
}
