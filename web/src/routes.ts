import type { ComponentType } from "preact";
import {
  AuthorisedConfirm,
  AuthorisedSenders,
  ChangePassword,
  ContactEmail,
  EmailChangeConfirm,
  MyDetails,
  Sessions,
} from "./pages/account";
import { ForgotPassword, Register, ResetPassword, SignIn, VerifyEmail } from "./pages/auth";
import { Home } from "./pages/misc";
import { Recovery, RecoveryStatus } from "./pages/recovery";
import { CessionLanding, OrderCession, OrderDetail, Orders, Services } from "./pages/services";
import { StaffClients, StaffRecoveryCase, StaffRecoveryQueue, StaffTicket, StaffTickets } from "./pages/staff";
import { AccessRequest, NewTicket, SalesQuestion, TicketDetail, TicketList } from "./pages/tickets";

export type Access = "public" | "client" | "staff";
export interface Route {
  path: string;
  page: ComponentType<{ params: Record<string, string> }>;
  access: Access;
}

// Every page, by path. The paths of mailed links are the API's (the callers of
// clientarea.mail.outbox.link/page): /verify-email, /reset-password, /forgot-password,
// /login, /email-change/confirm, /authorised-emails/confirm, /cession, /orders/:id,
// /tickets/:number, /recovery, /recovery/:reference, /support/access-request and /.
export const routes: Route[] = [
  { path: "/", page: Home, access: "client" },
  { path: "/login", page: SignIn, access: "public" },
  { path: "/register", page: Register, access: "public" },
  { path: "/verify-email", page: VerifyEmail, access: "public" },
  { path: "/forgot-password", page: ForgotPassword, access: "public" },
  { path: "/reset-password", page: ResetPassword, access: "public" },
  { path: "/account", page: MyDetails, access: "client" },
  { path: "/account/password", page: ChangePassword, access: "client" },
  { path: "/account/email", page: ContactEmail, access: "client" },
  { path: "/account/authorised-emails", page: AuthorisedSenders, access: "client" },
  { path: "/account/sessions", page: Sessions, access: "client" },
  { path: "/email-change/confirm", page: EmailChangeConfirm, access: "public" },
  { path: "/authorised-emails/confirm", page: AuthorisedConfirm, access: "public" },
  { path: "/services", page: Services, access: "client" },
  { path: "/services/:id/cession", page: OrderCession, access: "client" },
  { path: "/orders", page: Orders, access: "client" },
  { path: "/orders/:id", page: OrderDetail, access: "client" },
  { path: "/cession", page: CessionLanding, access: "public" },
  { path: "/tickets", page: TicketList, access: "client" },
  { path: "/tickets/new", page: NewTicket, access: "client" },
  { path: "/tickets/:number", page: TicketDetail, access: "client" },
  { path: "/support/access-request", page: AccessRequest, access: "public" },
  { path: "/support/sales", page: SalesQuestion, access: "public" },
  { path: "/recovery", page: Recovery, access: "public" },
  { path: "/recovery/:reference", page: RecoveryStatus, access: "public" },
  { path: "/staff", page: StaffTickets, access: "staff" },
  { path: "/staff/tickets", page: StaffTickets, access: "staff" },
  { path: "/staff/tickets/:number", page: StaffTicket, access: "staff" },
  { path: "/staff/clients", page: StaffClients, access: "staff" },
  { path: "/staff/clients/:number", page: StaffClients, access: "staff" },
  { path: "/staff/recovery", page: StaffRecoveryQueue, access: "staff" },
  { path: "/staff/recovery/:reference", page: StaffRecoveryCase, access: "staff" },
];
