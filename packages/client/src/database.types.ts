
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  
  "tollgate": {
          Tables: {
            "api_keys": {
                  Row: {
                    "created_at": string,"expires_at": string | null,"id": string,"last_used_at": string | null,"name": string,"prefix": string,"revoked_at": string | null,"scopes": (string)[],"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"expires_at"?: string | null,"id"?: string,"last_used_at"?: string | null,"name": string,"prefix": string,"revoked_at"?: string | null,"scopes": (string)[],"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"expires_at"?: string | null,"id"?: string,"last_used_at"?: string | null,"name"?: string,"prefix"?: string,"revoked_at"?: string | null,"scopes"?: (string)[],"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"credit_balances": {
                  Row: {
                    "created_at": string,"expires_at": string | null,"granted": number,"id": string,"idempotency_key": string | null,"metric": string,"purchase_id": string | null,"reason": string | null,"remaining": number,"revoked_at": string | null,"source": string,"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"expires_at"?: string | null,"granted": number,"id"?: string,"idempotency_key"?: string | null,"metric": string,"purchase_id"?: string | null,"reason"?: string | null,"remaining": number,"revoked_at"?: string | null,"source": string,"updated_at"?: string,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"expires_at"?: string | null,"granted"?: number,"id"?: string,"idempotency_key"?: string | null,"metric"?: string,"purchase_id"?: string | null,"reason"?: string | null,"remaining"?: number,"revoked_at"?: string | null,"source"?: string,"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "credit_balances_purchase_id_fkey"
      columns: ["purchase_id"]
isOneToOne: false
      referencedRelation: "purchases"
      referencedColumns: ["id"]
    }
                  ]
                },"invoices": {
                  Row: {
                    "amount_due": number,"amount_paid": number,"amount_refunded": number,"created_at": string,"currency": string,"hosted_invoice_url": string | null,"id": string,"invoice_pdf": string | null,"number": string | null,"paid_at": string | null,"period_end": string | null,"period_start": string | null,"provider": string,"status": string,"subscription_id": string | null,"updated_at": string,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "amount_due"?: number,"amount_paid"?: number,"amount_refunded"?: number,"created_at"?: string,"currency": string,"hosted_invoice_url"?: string | null,"id"?: string,"invoice_pdf"?: string | null,"number"?: string | null,"paid_at"?: string | null,"period_end"?: string | null,"period_start"?: string | null,"provider": string,"status": string,"subscription_id"?: string | null,"updated_at"?: string,"user_id"?: string | null
                  }
                  Update: {
                    "amount_due"?: number,"amount_paid"?: number,"amount_refunded"?: number,"created_at"?: string,"currency"?: string,"hosted_invoice_url"?: string | null,"id"?: string,"invoice_pdf"?: string | null,"number"?: string | null,"paid_at"?: string | null,"period_end"?: string | null,"period_start"?: string | null,"provider"?: string,"status"?: string,"subscription_id"?: string | null,"updated_at"?: string,"user_id"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "invoices_subscription_id_fkey"
      columns: ["subscription_id"]
isOneToOne: false
      referencedRelation: "subscriptions"
      referencedColumns: ["id"]
    }
                  ]
                },"member_discounts": {
                  Row: {
                    "created_at": string,"percent_off": number,"plan_id": string,"product_id": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"percent_off": number,"plan_id": string,"product_id": string,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"percent_off"?: number,"plan_id"?: string,"product_id"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "member_discounts_plan_id_fkey"
      columns: ["plan_id"]
isOneToOne: false
      referencedRelation: "plans"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "member_discounts_product_id_fkey"
      columns: ["product_id"]
isOneToOne: false
      referencedRelation: "products"
      referencedColumns: ["id"]
    }
                  ]
                },"notification_preferences": {
                  Row: {
                    "email_opt_out": (string)[],"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "email_opt_out"?: (string)[],"updated_at"?: string,"user_id": string
                  }
                  Update: {
                    "email_opt_out"?: (string)[],"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"notifications": {
                  Row: {
                    "body": string,"created_at": string,"data": NonNullable<Json>,"dedupe_key": string,"id": string,"kind": string,"read_at": string | null,"title": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "body": string,"created_at"?: string,"data"?: NonNullable<Json>,"dedupe_key": string,"id"?: string,"kind": string,"read_at"?: string | null,"title": string,"user_id": string
                  }
                  Update: {
                    "body"?: string,"created_at"?: string,"data"?: NonNullable<Json>,"dedupe_key"?: string,"id"?: string,"kind"?: string,"read_at"?: string | null,"title"?: string,"user_id"?: string
                  }
                  Relationships: [
                    
                  ]
                },"plan_features": {
                  Row: {
                    "created_at": string,"feature": string,"plan_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"feature": string,"plan_id": string
                  }
                  Update: {
                    "created_at"?: string,"feature"?: string,"plan_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "plan_features_plan_id_fkey"
      columns: ["plan_id"]
isOneToOne: false
      referencedRelation: "plans"
      referencedColumns: ["id"]
    }
                  ]
                },"plan_limits": {
                  Row: {
                    "carry_over": boolean,"created_at": string,"metric": string,"period": string,"plan_id": string,"quota": number,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "carry_over"?: boolean,"created_at"?: string,"metric": string,"period"?: string,"plan_id": string,"quota": number,"updated_at"?: string
                  }
                  Update: {
                    "carry_over"?: boolean,"created_at"?: string,"metric"?: string,"period"?: string,"plan_id"?: string,"quota"?: number,"updated_at"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "plan_limits_plan_id_fkey"
      columns: ["plan_id"]
isOneToOne: false
      referencedRelation: "plans"
      referencedColumns: ["id"]
    }
                  ]
                },"plans": {
                  Row: {
                    "active": boolean,"amount": number,"created_at": string,"currency": string,"description": string | null,"features": (string)[],"id": string,"interval": string,"name": string,"sort_order": number,"stripe_price_id": string | null,"trial_days": number,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "active"?: boolean,"amount"?: number,"created_at"?: string,"currency"?: string,"description"?: string | null,"features"?: (string)[],"id": string,"interval"?: string,"name": string,"sort_order"?: number,"stripe_price_id"?: string | null,"trial_days"?: number,"updated_at"?: string
                  }
                  Update: {
                    "active"?: boolean,"amount"?: number,"created_at"?: string,"currency"?: string,"description"?: string | null,"features"?: (string)[],"id"?: string,"interval"?: string,"name"?: string,"sort_order"?: number,"stripe_price_id"?: string | null,"trial_days"?: number,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"products": {
                  Row: {
                    "active": boolean,"amount": number,"created_at": string,"credits": number,"credits_valid_days": number | null,"currency": string,"description": string | null,"id": string,"metric": string,"name": string,"sort_order": number,"stripe_price_id": string | null,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "active"?: boolean,"amount": number,"created_at"?: string,"credits": number,"credits_valid_days"?: number | null,"currency"?: string,"description"?: string | null,"id": string,"metric": string,"name": string,"sort_order"?: number,"stripe_price_id"?: string | null,"updated_at"?: string
                  }
                  Update: {
                    "active"?: boolean,"amount"?: number,"created_at"?: string,"credits"?: number,"credits_valid_days"?: number | null,"currency"?: string,"description"?: string | null,"id"?: string,"metric"?: string,"name"?: string,"sort_order"?: number,"stripe_price_id"?: string | null,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"purchases": {
                  Row: {
                    "amount_paid": number,"amount_refunded": number,"checkout_id": string | null,"coupon_code": string | null,"created_at": string,"currency": string,"id": string,"paid_at": string,"product_id": string,"provider": string,"quantity": number,"status": string,"updated_at": string,"user_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "amount_paid": number,"amount_refunded"?: number,"checkout_id"?: string | null,"coupon_code"?: string | null,"created_at"?: string,"currency": string,"id"?: string,"paid_at"?: string,"product_id": string,"provider": string,"quantity"?: number,"status"?: string,"updated_at"?: string,"user_id"?: string | null
                  }
                  Update: {
                    "amount_paid"?: number,"amount_refunded"?: number,"checkout_id"?: string | null,"coupon_code"?: string | null,"created_at"?: string,"currency"?: string,"id"?: string,"paid_at"?: string,"product_id"?: string,"provider"?: string,"quantity"?: number,"status"?: string,"updated_at"?: string,"user_id"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "purchases_product_id_fkey"
      columns: ["product_id"]
isOneToOne: false
      referencedRelation: "products"
      referencedColumns: ["id"]
    }
                  ]
                },"subscriptions": {
                  Row: {
                    "billing_cycle_anchor": string | null,"cancel_at_period_end": boolean,"canceled_at": string | null,"created_at": string,"current_period_end": string | null,"current_period_start": string | null,"ended_at": string | null,"id": string,"plan_id": string,"provider": string,"status": string,"trial_end": string | null,"updated_at": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "billing_cycle_anchor"?: string | null,"cancel_at_period_end"?: boolean,"canceled_at"?: string | null,"created_at"?: string,"current_period_end"?: string | null,"current_period_start"?: string | null,"ended_at"?: string | null,"id"?: string,"plan_id": string,"provider": string,"status": string,"trial_end"?: string | null,"updated_at"?: string,"user_id": string
                  }
                  Update: {
                    "billing_cycle_anchor"?: string | null,"cancel_at_period_end"?: boolean,"canceled_at"?: string | null,"created_at"?: string,"current_period_end"?: string | null,"current_period_start"?: string | null,"ended_at"?: string | null,"id"?: string,"plan_id"?: string,"provider"?: string,"status"?: string,"trial_end"?: string | null,"updated_at"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "subscriptions_plan_id_fkey"
      columns: ["plan_id"]
isOneToOne: false
      referencedRelation: "plans"
      referencedColumns: ["id"]
    }
                  ]
                }
          }
          Views: {
            "usage": {
                  Row: {
                    "credits": number | null,"metric": string | null,"period": string | null,"period_end": string | null,"period_start": string | null,"quota": number | null,"remaining": number | null,"used": number | null,"user_id": string | null
                  }
                  ComputedFields: never
                  Relationships: [
                    
                  ]
                }
          }
          Functions: {
            "admin_grant_credits":
{ Args: { "amount": number,"expires_at": string,"idempotency_key"?: string,"metric": string,"reason": string,"user_id": string }; Returns: Json
                           },
"admin_grant_plan":
{ Args: { "ends_at": string,"plan_id": string,"reason": string,"user_id": string }; Returns: Json
                           },
"admin_metrics":
{ Args: Record<PropertyKey, never>; Returns: Json
                           },
"admin_reset_usage":
{ Args: { "metric": string,"reason": string,"user_id": string }; Returns: Json
                           },
"consume_usage":
{ Args: { "amount"?: number,"idempotency_key"?: string,"metadata"?: Json,"metric": string }; Returns: Json
                           },
"create_api_key":
{ Args: { "expires_at"?: string,"name": string,"scopes"?: (string)[] }; Returns: Json
                           },
"current_plan":
{ Args: Record<PropertyKey, never>; Returns: string
                           },
"custom_access_token_hook":
{ Args: { "event": Json }; Returns: Json
                           },
"entitlements":
{ Args: Record<PropertyKey, never>; Returns: Json
                           },
"export_my_data":
{ Args: { "ledger_page"?: number }; Returns: Json
                           },
"has_feature":
{ Args: { "feature": string }; Returns: boolean
                           },
"mark_notifications_read":
{ Args: { "ids"?: (string)[] }; Returns: number
                           },
"metrics_history":
{ Args: { "from_day": string,"to_day": string }; Returns: {
              "active_subscriptions": number,"churned_subscriptions": number,"currency": string,"day": string,"mrr": number,"new_subscriptions": number
            }[]
                           },
"revoke_api_key":
{ Args: { "id": string }; Returns: Json
                           },
"service_role_consume_usage":
{ Args: { "amount"?: number,"idempotency_key"?: string,"metadata"?: Json,"metric": string,"user_id": string }; Returns: Json
                           },
"service_role_limit_request":
{ Args: { "api_key"?: string,"metric"?: string,"scope"?: string,"user_id"?: string }; Returns: Json
                           },
"service_role_release_usage":
{ Args: { "amount"?: number,"idempotency_key"?: string,"metric": string,"user_id": string }; Returns: Json
                           },
"set_notification_preferences":
{ Args: { "email_opt_out": (string)[] }; Returns: Json
                           },
"usage_history":
{ Args: { "bucket"?: string,"from_ts": string,"metric": string,"to_ts": string,"user_id"?: string }; Returns: {
              "bucket_start": string,"used": number
            }[]
                           },
"usage_of":
{ Args: { "user_id": string }; Returns: {
              "credits": number | null,
"metric": string | null,
"period": string | null,
"period_end": string | null,
"period_start": string | null,
"quota": number | null,
"remaining": number | null,
"used": number | null,
"user_id": string | null
            }[]
                          SetofOptions: {
        from: "*"
        to: "usage"
        isOneToOne: false
        isSetofReturn: true
      } }
          }
          Enums: {
            [_ in never]: never
          }
          CompositeTypes: {
            [_ in never]: never
          }
        }
}

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "tollgate">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
  ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
      Row: infer R
    }
    ? R
    : never
  : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Insert: infer I
    }
    ? I
    : never
  : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Update: infer U
    }
    ? U
    : never
  : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
  ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never
> = PublicCompositeTypeNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
  ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never

export const Constants = {
  "tollgate": {
          Enums: {
            
          }
        }
} as const
